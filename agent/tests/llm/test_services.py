"""The async LLM services against the scripted fake provider over real HTTP (both SDKs, their real clients)."""

import asyncio
import time

import pytest
from vanna.core.llm import LlmMessage
from vanna.core.tool import ToolCall

from agent.llm.errors import LLMUnavailableError
from majed_vanna.circuit_breakers import OPEN, get_breaker

from .conftest import question

SQL = "SELECT count(*) FROM customers"


async def collect(service, request):
    return [chunk async for chunk in service.stream_request(request)]


async def test_tool_call_then_text_answer(provider, fake_llm):
    fake_llm.enqueue(json=provider.completion(tool_calls=[("run_sql", {"sql": SQL})], usage=(12, 5)))
    fake_llm.enqueue(json=provider.completion("There are 42 customers.", usage=(30, 7)))

    first = await provider.service.send_request(question())
    assert first.is_tool_call()
    call = first.tool_calls[0]
    assert (call.name, call.arguments) == ("run_sql", {"sql": SQL})
    assert first.usage == {"input_tokens": 12, "output_tokens": 5, "total_tokens": 17}
    assert first.metadata["provider"] == provider.name and first.metadata["retries"] == 0

    history = [
        LlmMessage(role="user", content="How many customers?"),
        LlmMessage(
            role="assistant", content="", tool_calls=[ToolCall(id=call.id, name="run_sql", arguments={"sql": SQL})]
        ),
        LlmMessage(role="tool", content="count\n42", tool_call_id=call.id),
    ]
    second = await provider.service.send_request(question(None, history=history))
    assert second.content == "There are 42 customers." and not second.is_tool_call()
    assert second.usage["input_tokens"] == 30

    sent = fake_llm.requests[-1]
    assert sent.path == provider.path
    assert "run_sql" in str(sent.body["tools"]) and call.id in str(sent.body["messages"])
    assert fake_llm.requests[0].body.get("stream") in (None, False)


async def test_stream_yields_deltas_then_tool_calls_and_usage(provider, fake_llm):
    fake_llm.enqueue(events=provider.stream(["The ", "answer"], tool_calls=[("run_sql", {"sql": SQL})], usage=(9, 4)))
    chunks = await collect(provider.service, question())
    assert [c.content for c in chunks if c.content] == ["The ", "answer"]
    last = chunks[-1]
    assert [(c.name, c.arguments) for c in last.tool_calls] == [("run_sql", {"sql": SQL})]
    assert last.metadata["usage"] == {"input_tokens": 9, "output_tokens": 4, "total_tokens": 13}
    assert fake_llm.requests[0].body["stream"] is True


async def test_stream_deltas_arrive_as_they_are_sent(provider, fake_llm):
    fake_llm.enqueue(events=provider.stream(["a", "b", "c", "d"]), interval=0.3)
    first_delta_at = None
    async for chunk in provider.service.stream_request(question(tools=False)):
        if chunk.content and first_delta_at is None:
            first_delta_at = time.monotonic()
    assert first_delta_at is not None
    assert first_delta_at < fake_llm.sent[-1] - 0.5  # not buffered until the end of the stream


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_transient_errors_are_retried_then_succeed(provider, fake_llm, status):
    fake_llm.enqueue(status=status, json={"error": {"message": "busy"}}, headers={"Retry-After": "0.2"})
    fake_llm.enqueue(status=status, json={"error": {"message": "busy"}})
    fake_llm.enqueue(json=provider.completion("ok"))
    started = time.monotonic()
    response = await provider.service.send_request(question(tools=False))
    assert response.content == "ok" and response.metadata["retries"] == 2
    assert fake_llm.count(path_suffix=provider.path) == 3
    assert time.monotonic() - started >= 0.2  # the provider's Retry-After was honoured


async def test_stream_opening_is_retried(provider, fake_llm):
    fake_llm.enqueue(status=502)
    fake_llm.enqueue(events=provider.stream(["fine"]))
    chunks = await collect(provider.service, question(tools=False))
    assert chunks[0].content == "fine" and chunks[-1].metadata["retries"] == 1


async def test_gives_up_after_the_allowed_retries(provider, fake_llm, settings):
    settings.LLM_MAX_RETRIES = 3
    for _ in range(4):
        fake_llm.enqueue(status=500)
    with pytest.raises(LLMUnavailableError) as caught:
        await provider.service.send_request(question())
    assert caught.value.code == "LLM_UNAVAILABLE" and caught.value.status_code == 503
    assert caught.value.details == {"retries": 3}
    assert fake_llm.count(path_suffix=provider.path) == 4


async def test_connection_refused_is_llm_unavailable(provider, fake_llm, settings):
    settings.LLM_MAX_RETRIES = 1
    fake_llm.stop()
    with pytest.raises(LLMUnavailableError):
        await provider.service.send_request(question())


async def test_refused_key_is_not_retried_and_not_counted(provider, fake_llm):
    provider.service._api_key = "wrong"
    with pytest.raises(LLMUnavailableError) as caught:
        await provider.service.send_request(question())
    assert caught.value.details == {"http_status": 401} and "wrong" not in caught.value.message
    assert fake_llm.count(path_suffix=provider.path) == 1
    assert get_breaker("llm").status().failures == 0


async def test_breaker_opens_after_threshold_and_fails_fast(provider, fake_llm, settings, monkeypatch):
    settings.LLM_MAX_RETRIES = 0
    monkeypatch.setattr(get_breaker("llm"), "_failure_threshold", 2)
    for _ in range(2):
        fake_llm.enqueue(status=500)
        with pytest.raises(LLMUnavailableError):
            await provider.service.send_request(question())
    assert get_breaker("llm").state == OPEN
    fake_llm.enqueue(json=provider.completion("never asked"))
    started = time.monotonic()
    with pytest.raises(LLMUnavailableError) as caught:
        await provider.service.send_request(question())
    with pytest.raises(LLMUnavailableError):
        await collect(provider.service, question())
    assert time.monotonic() - started < 0.5
    assert fake_llm.count(path_suffix=provider.path) == 2  # the open breaker sent nothing
    assert int(caught.value.headers["Retry-After"]) > 0


async def test_cancelling_the_consumer_closes_the_request(provider, fake_llm):
    fake_llm.enqueue(events=provider.stream(["a", "b", "c", "d", "e", "f"]), interval=1.0)
    first = asyncio.Event()

    async def consume():
        async for chunk in provider.service.stream_request(question(tools=False)):
            if chunk.content:
                first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 5)
    cancelled_at = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.to_thread(_wait_for, lambda: fake_llm.disconnects, 3)
    assert fake_llm.disconnects[0] - cancelled_at < 1.0


async def test_cancelling_a_waiting_call_closes_the_request(provider, fake_llm):
    fake_llm.enqueue(json=provider.completion("late"), delay=5)
    task = asyncio.create_task(provider.service.send_request(question()))
    await asyncio.to_thread(fake_llm.wait_for_requests, 1)
    cancelled_at = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.to_thread(_wait_for, lambda: fake_llm.disconnects, 3)
    assert fake_llm.disconnects[0] - cancelled_at < 1.0
    assert get_breaker("llm").status().failures == 0  # a cancellation is not the provider's failure


async def test_concurrent_calls_are_not_serialised(provider, fake_llm):
    fake_llm.delay = 1.0
    await provider.service.send_request(question())  # warm up (client creation, imports)
    started = time.monotonic()
    answers = await asyncio.gather(*(provider.service.send_request(question()) for _ in range(100)))
    elapsed = time.monotonic() - started
    assert len(answers) == 100 and all(a.content == "pong" for a in answers)
    arrivals = sorted(r.received_at for r in fake_llm.requests[1:])
    assert arrivals[-1] - arrivals[0] < 0.9  # all 100 were in flight at once
    assert elapsed < 2.5, elapsed  # about one call's time, not 100 of them


def _wait_for(condition, timeout):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError
        time.sleep(0.02)
