"""vanna ``LlmService`` on ``anthropic.AsyncAnthropic`` (Messages API, ``tool_use`` blocks, streaming events).

This SDK's ``messages.create`` takes no ``temperature``; the request's is not sent.
Consecutive ``tool`` messages become one user message of ``tool_result`` blocks, as the API requires.
``stream_request`` yields text deltas as they arrive, then one chunk with the tool calls (their JSON input
assembled from ``input_json_delta`` fragments), the stop reason and ``metadata`` (provider, model, retries, usage).
"""

from collections.abc import AsyncGenerator
from typing import Any

import anthropic
from vanna.core.llm import LlmRequest, LlmResponse, LlmStreamChunk

from .base import AsyncLlmService, CallState, shared_client, timeout, tool_call

DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_MAX_TOKENS = 4096  # the API requires max_tokens


def _messages(request: LlmRequest) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for m in request.messages:
        if m.role == "tool":
            block = {"type": "tool_result", "tool_use_id": m.tool_call_id, "content": m.content}
            previous = messages[-1] if messages else None
            if previous and previous["role"] == "user" and previous["content"][0]["type"] == "tool_result":
                previous["content"].append(block)
            else:
                messages.append({"role": "user", "content": [block]})
            continue
        blocks: list[dict[str, Any]] = [{"type": "text", "text": m.content}] if m.content and m.content.strip() else []
        if m.role == "assistant":
            blocks += [
                {"type": "tool_use", "id": tc.id, "name": tc.name, "input": tc.arguments} for tc in m.tool_calls or []
            ]
        messages.append(
            {
                "role": "assistant" if m.role == "assistant" else "user",
                "content": blocks or [{"type": "text", "text": ""}],
            }
        )
    return messages


class AnthropicLlmService(AsyncLlmService):
    provider = "anthropic"
    api_status_error = anthropic.APIStatusError
    connection_errors = (anthropic.APIConnectionError,)  # APITimeoutError included

    def _client(self) -> anthropic.AsyncAnthropic:
        base_url = (self.base_url or DEFAULT_BASE_URL).rstrip("/")
        base_url = base_url.removesuffix("/v1")  # the SDK adds /v1 itself

        def build(http_client):
            return anthropic.AsyncAnthropic(
                api_key=self._api_key, base_url=base_url, max_retries=0, timeout=timeout(), http_client=http_client
            )

        return shared_client(self.provider, base_url, self._api_key, build)

    def payload(self, request: LlmRequest) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": _messages(request),
            "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
        }
        if request.system_prompt:
            payload["system"] = request.system_prompt
        if request.tools:
            payload["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.parameters} for t in request.tools
            ]
            payload["tool_choice"] = {"type": "auto"}
        return payload

    async def send_request(self, request: LlmRequest) -> LlmResponse:
        state = CallState()
        payload = self.payload(request)
        message = await self._guarded(state, lambda: self._client().messages.create(**payload))
        if message.usage is not None:
            state.add_usage(message.usage.input_tokens, message.usage.output_tokens)
        texts = [block.text for block in message.content if block.type == "text"]
        calls = [tool_call(block.id, block.name, block.input) for block in message.content if block.type == "tool_use"]
        return LlmResponse(
            content="".join(texts) or None,
            tool_calls=calls or None,
            finish_reason=message.stop_reason,
            usage=state.usage or None,
            metadata=self.metadata(state),
        )

    async def stream_request(self, request: LlmRequest) -> AsyncGenerator[LlmStreamChunk, None]:
        state = CallState()
        payload = {**self.payload(request), "stream": True}
        tools: dict[int, dict[str, str]] = {}
        stop_reason = None

        async def open_stream():
            return await self._client().messages.create(**payload)

        async for event in self._guarded_stream(state, open_stream):
            kind = event.type
            if kind == "message_start" and event.message.usage is not None:
                state.add_usage(event.message.usage.input_tokens, event.message.usage.output_tokens)
            elif kind == "content_block_start" and event.content_block.type == "tool_use":
                block = event.content_block
                tools[event.index] = {"id": block.id, "name": block.name, "arguments": ""}
            elif kind == "content_block_delta":
                delta = event.delta
                if delta.type == "text_delta" and delta.text:
                    yield LlmStreamChunk(content=delta.text)
                elif delta.type == "input_json_delta" and event.index in tools:
                    tools[event.index]["arguments"] += delta.partial_json
            elif kind == "message_delta":
                stop_reason = event.delta.stop_reason or stop_reason
                if event.usage is not None:
                    state.add_usage(output_tokens=event.usage.output_tokens)
        calls = [tool_call(t["id"], t["name"], t["arguments"] or "{}") for _, t in sorted(tools.items())]
        yield LlmStreamChunk(
            tool_calls=calls or None, finish_reason=stop_reason or "end_turn", metadata=self.metadata(state)
        )
