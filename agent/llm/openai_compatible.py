"""vanna ``LlmService`` on ``openai.AsyncOpenAI(base_url=...)``: OpenAI, vLLM, Ollama, LM Studio.

``stream_request`` yields each text delta as it arrives, then one last chunk with the tool calls (assembled
from their streamed fragments), the finish reason and ``metadata`` (provider, model, retries, usage).
"""

import json
from collections.abc import AsyncGenerator
from typing import Any

import openai
from openai._base_client import get_platform
from vanna.core.llm import LlmRequest, LlmResponse, LlmStreamChunk

from .base import AsyncLlmService, CallState, shared_client, timeout, tool_call

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# The SDK learns the platform on a client's first call (``platform.platform()`` runs ``uname -p``, a child
# process); learn it once at import, so no call starts a process (the result is cached by ``platform``).
get_platform()


class OpenAICompatibleLlmService(AsyncLlmService):
    provider = "openai"
    api_status_error = openai.APIStatusError
    connection_errors = (openai.APIConnectionError,)  # APITimeoutError included

    def _client(self) -> openai.AsyncOpenAI:
        base_url = self.base_url or DEFAULT_BASE_URL

        def build(http_client):
            return openai.AsyncOpenAI(
                api_key=self._api_key, base_url=base_url, max_retries=0, timeout=timeout(), http_client=http_client
            )

        return shared_client(self.provider, base_url, self._api_key, build)

    def payload(self, request: LlmRequest) -> dict[str, Any]:
        messages: list[dict[str, Any]] = []
        if request.system_prompt:
            messages.append({"role": "system", "content": request.system_prompt})
        for m in request.messages:
            message: dict[str, Any] = {"role": m.role, "content": m.content}
            if m.role == "tool" and m.tool_call_id:
                message["tool_call_id"] = m.tool_call_id
            elif m.role == "assistant" and m.tool_calls:
                message["tool_calls"] = [
                    {
                        "id": tc.id,
                        "type": "function",
                        "function": {"name": tc.name, "arguments": json.dumps(tc.arguments)},
                    }
                    for tc in m.tool_calls
                ]
            messages.append(message)
        payload: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": request.temperature}
        if request.max_tokens is not None:
            payload["max_tokens"] = request.max_tokens
        if request.tools:
            payload["tools"] = [
                {
                    "type": "function",
                    "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
                }
                for t in request.tools
            ]
            payload["tool_choice"] = "auto"
        return payload

    async def send_request(self, request: LlmRequest) -> LlmResponse:
        state = CallState()
        payload = self.payload(request)
        completion = await self._guarded(state, lambda: self._client().chat.completions.create(**payload))
        if completion.usage is not None:
            state.add_usage(completion.usage.prompt_tokens, completion.usage.completion_tokens)
        if not completion.choices:
            return LlmResponse(usage=state.usage or None, metadata=self.metadata(state))
        choice = completion.choices[0]
        calls = [
            tool_call(tc.id, tc.function.name, tc.function.arguments)
            for tc in choice.message.tool_calls or []
            if getattr(tc, "function", None) is not None
        ]
        return LlmResponse(
            content=choice.message.content,
            tool_calls=calls or None,
            finish_reason=choice.finish_reason,
            usage=state.usage or None,
            metadata=self.metadata(state),
        )

    async def stream_request(self, request: LlmRequest) -> AsyncGenerator[LlmStreamChunk, None]:
        state = CallState()
        payload = {**self.payload(request), "stream": True, "stream_options": {"include_usage": True}}
        builders: dict[int, dict[str, str]] = {}
        finish_reason = None

        async def open_stream():
            return await self._client().chat.completions.create(**payload)

        async for event in self._guarded_stream(state, open_stream):
            if event.usage is not None:
                state.add_usage(event.usage.prompt_tokens, event.usage.completion_tokens)
            for choice in event.choices or []:
                delta = choice.delta
                if delta is not None and delta.content:
                    yield LlmStreamChunk(content=delta.content)
                for tc in (delta.tool_calls if delta is not None else None) or []:
                    built = builders.setdefault(tc.index or 0, {"id": "", "name": "", "arguments": ""})
                    built["id"] = tc.id or built["id"]
                    if tc.function is not None:
                        built["name"] = tc.function.name or built["name"]
                        built["arguments"] += tc.function.arguments or ""
                finish_reason = choice.finish_reason or finish_reason
        calls = [tool_call(b["id"], b["name"], b["arguments"]) for _, b in sorted(builders.items()) if b["name"]]
        yield LlmStreamChunk(
            tool_calls=calls or None, finish_reason=finish_reason or "stop", metadata=self.metadata(state)
        )
