"""The LLM service the runtime configuration asks for (``llm_provider``, ``llm_model``, ``llm_base_url``, the key).

``llm_service()`` returns an ``OpenAICompatibleLlmService`` or an ``AnthropicLlmService``, or ``None`` when the
provider is ``none`` (offline mode). It reads the database (the stored key): from async code use
``allm_service()``. Services are cheap to build; the SDK clients and their pools behind them are shared.
A local OpenAI-compatible server (Ollama, LM Studio, vLLM) needs no key when a base URL is set.
"""

from asgiref.sync import sync_to_async

from config_api.runtime import runtime_config_values
from config_api.selectors import UNREADABLE, llm_key

from .anthropic import AnthropicLlmService
from .base import AsyncLlmService
from .errors import LLMNotConfiguredError, LLMUnavailableError
from .openai_compatible import OpenAICompatibleLlmService

SERVICES: dict[str, type[AsyncLlmService]] = {
    "openai": OpenAICompatibleLlmService,
    "anthropic": AnthropicLlmService,
}
NO_KEY_PLACEHOLDER = "not-needed"  # local OpenAI-compatible servers ignore the key, the SDK wants one


def llm_service() -> AsyncLlmService | None:
    values = runtime_config_values()
    provider = (values.get("llm_provider") or "none").lower()
    if provider == "none":
        return None
    service = SERVICES.get(provider)
    if service is None:
        raise LLMNotConfiguredError(f"Unknown LLM provider {provider!r}.")
    model, base_url = values.get("llm_model") or "", values.get("llm_base_url") or ""
    if not model:
        raise LLMNotConfiguredError("No LLM model is configured.")
    key = llm_key()
    if key.source == UNREADABLE:
        raise LLMUnavailableError("The stored LLM API key cannot be decrypted; an administrator must set it again.")
    api_key = key.value
    if not api_key:
        if provider != "openai" or not base_url:
            raise LLMNotConfiguredError("No LLM API key is configured.")
        api_key = NO_KEY_PLACEHOLDER
    return service(model=model, api_key=api_key, base_url=base_url)


allm_service = sync_to_async(llm_service)
