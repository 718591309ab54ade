"""The LLM service chosen by the runtime configuration, used end to end against the fake provider."""

import pytest
from asgiref.sync import sync_to_async

from agent.llm.anthropic import AnthropicLlmService
from agent.llm.errors import LLMNotConfiguredError
from agent.llm.openai_compatible import OpenAICompatibleLlmService
from agent.llm.registry import allm_service, llm_service
from config_api.services import config_update

from .conftest import question

pytestmark = pytest.mark.django_db(transaction=True)


def configure(admin, **changes):
    config_update(actor=admin, changes=changes)


def test_provider_none_is_offline_mode(admin):
    configure(admin, llm_provider="none")
    assert llm_service() is None


def test_missing_model_is_not_configured(admin):
    configure(admin, llm_provider="openai", llm_model="", llm_api_key="sk-x")
    with pytest.raises(LLMNotConfiguredError) as caught:
        llm_service()
    assert caught.value.code == "LLM_NOT_CONFIGURED"


def test_hosted_provider_without_key_is_not_configured(admin, settings):
    settings.LLM_API_KEY = ""
    configure(admin, llm_provider="anthropic", llm_model="claude-x", llm_base_url="", llm_api_key="")
    with pytest.raises(LLMNotConfiguredError):
        llm_service()


def test_local_openai_compatible_server_needs_no_key(admin, settings):
    settings.LLM_API_KEY = ""
    configure(
        admin, llm_provider="openai", llm_model="llama3", llm_base_url="http://127.0.0.1:11434/v1", llm_api_key=""
    )
    service = llm_service()
    assert isinstance(service, OpenAICompatibleLlmService) and service.model == "llama3"


@pytest.mark.parametrize(
    ("name", "cls", "suffix"),
    [("openai", OpenAICompatibleLlmService, "/v1"), ("anthropic", AnthropicLlmService, "")],
)
async def test_configured_provider_answers_with_the_stored_key(admin, fake_llm, name, cls, suffix):
    await sync_to_async(configure)(
        admin,
        llm_provider=name,
        llm_model="fake-model-1",
        llm_base_url=fake_llm.url + suffix,
        llm_api_key=fake_llm.api_key,
    )
    service = await allm_service()
    assert isinstance(service, cls) and fake_llm.api_key not in repr(service)
    response = await service.send_request(question(tools=False))
    assert response.content == "pong"  # the fake's default answer needs the right key
