"""The engine on both providers (OpenAI-compatible and Anthropic, their real async SDKs against the scripted
fake over real HTTP): the basic path, streamed text, LLM failures with the contract's codes, and the answer
stored in every case (events, the same lineage as ``done``, token usage)."""

import asyncio
import time

import pytest
from asgiref.sync import sync_to_async

from agent.models import Message
from agent.services.chat import chat_prepare, chat_stream
from majed_vanna.circuit_breakers import get_breaker
from majed_vanna.tests.fake_llm import anthropic_stream, openai_stream

from ..chat.conftest import ask, stream
from .script import COUNT_CUSTOMERS, errors, llm_requests, say, tool_call, types

pytestmark = pytest.mark.django_db(transaction=True)

PROVIDERS = ["openai", "anthropic"]


@pytest.fixture(params=PROVIDERS)
def llm(request):
    """The fake LLM, configured as the runtime's provider (each test runs once per provider)."""
    fake = request.getfixturevalue(f"{request.param}_llm")
    fake.provider = request.param
    return fake


def stored(message_id) -> Message:
    return Message.objects.get(pk=message_id)


async def assert_stored(done: dict, streamed: list[dict]):
    """The assistant message holds what went out: the events (all but ``done``), ``done``'s lineage, usage."""
    message = await sync_to_async(stored)(done["message_id"])
    assert message.role == "assistant"
    assert message.events == streamed[:-1]
    assert message.lineage == done["lineage"]
    assert message.usage == (done["lineage"]["usage"] or None)
    assert message.content == "".join(e["content"] for e in streamed if e["type"] == "text")
    return message


async def test_the_basic_path_on_each_provider(demo_source, llm, user):
    tool_call(llm, COUNT_CUSTOMERS, provider=llm.provider, usage=(100, 12))
    say(llm, "There are ", "200 ", "customers.", provider=llm.provider, usage=(150, 9))
    events = await stream(user, "How many customers are there?")

    assert types(events) == ["tool_start", "sql", "table", "tool_end", "text", "text", "text", "done"]
    assert [e["content"] for e in events if e["type"] == "text"] == ["There are ", "200 ", "customers."]
    table = events[2]
    assert table["columns"] == ["n"] and table["rows"][0][0] > 0 and table["row_count"] == 1
    done = events[-1]
    assert done["tools_used"] == ["run_sql"]
    lineage = done["lineage"]
    assert lineage["provider"] == llm.provider and lineage["model"] == "fake-model-1"
    assert lineage["tables"] == ["customers"]
    assert lineage["row_count"] == 1 and lineage["truncated"] is False
    assert lineage["retries"] == 0 and lineage["llm_calls"] == 2
    assert lineage["usage"] == {"input_tokens": 250, "output_tokens": 21, "total_tokens": 271}
    assert lineage["timings_ms"]["llm"] > 0 and lineage["timings_ms"]["sql"] > 0
    assert lineage["timings_ms"]["total"] >= lineage["timings_ms"]["llm"] + lineage["timings_ms"]["sql"]
    assert lineage["confidence"]["tier"] == "medium"
    await assert_stored(done, events)

    calls = llm_requests(llm)
    assert len(calls) == 2
    assert calls[0].path == ("/v1/messages" if llm.provider == "anthropic" else "/v1/chat/completions")
    assert calls[0].body["stream"] is True
    tools = calls[0].body["tools"]
    names = [t.get("name") or t["function"]["name"] for t in tools]
    assert names == ["run_sql"]


async def test_text_deltas_go_out_as_the_model_streams_them(demo_source, llm, user):
    say(llm, "one ", "two ", "three", provider=llm.provider, interval=0.15)
    prepared = await chat_prepare(principal=user, message="Say three words")
    arrived = []
    async for event in chat_stream(prepared):
        arrived.append((time.monotonic(), event))
    texts = [(at, e) for at, e in arrived if e["type"] == "text"]
    assert [e["content"] for _, e in texts] == ["one ", "two ", "three"]
    assert texts[-1][0] - texts[0][0] >= 0.25  # each delta went out when it came, not all at the end
    assert arrived[-1][1]["type"] == "done"
    assert types([e for _, e in arrived]) == ["text", "text", "text", "done"]


async def test_a_provider_that_keeps_failing_is_llm_unavailable(demo_source, llm, user):
    for _ in range(4):
        llm.enqueue(status=503, json={"error": {"message": "overloaded"}})
    events = await stream(user, "How many customers are there?")

    assert types(events) == ["error", "done"]
    error = errors(events)[0]
    assert error["code"] == "LLM_UNAVAILABLE"
    assert "503" in error["message"] and "overloaded" not in error["message"]
    assert len(llm_requests(llm)) == 2  # the call and its one retry (LLM_MAX_RETRIES=1 in these tests)
    done = events[-1]
    assert done["lineage"]["llm_calls"] == 1 and done["lineage"]["confidence"]["tier"] == "low"
    await assert_stored(done, events)


async def test_a_refusing_provider_is_llm_unavailable_without_retries(demo_source, llm, user):
    llm.enqueue(status=401, json={"error": {"message": "Incorrect API key provided: sk-leaked"}})
    events = await stream(user, "How many customers are there?")
    error = errors(events)[0]
    assert error["code"] == "LLM_UNAVAILABLE"
    assert "sk-leaked" not in str(events)
    assert len(llm_requests(llm)) == 1


async def test_an_open_breaker_fails_at_once(demo_source, llm, user, configure):
    await configure(circuit_breaker_failure_threshold=2)
    for _ in range(4):
        llm.enqueue(status=500)
    for _ in range(2):  # two failed chats (each: the call and its retry) open the breaker
        assert errors(await stream(user, "Anything?"))[0]["code"] == "LLM_UNAVAILABLE"
    assert len(llm_requests(llm)) == 4
    assert await sync_to_async(lambda: get_breaker("llm").state)() == "open"

    started = time.monotonic()
    events = await stream(user, "Anything at all?")
    assert time.monotonic() - started < 2
    assert types(events) == ["error", "done"]
    assert errors(events)[0]["code"] == "LLM_UNAVAILABLE"
    assert len(llm_requests(llm)) == 4  # the provider was not called
    await assert_stored(events[-1], events)


@pytest.mark.parametrize(
    "changes",
    [
        {"llm_provider": "anthropic", "llm_model": "claude", "llm_api_key": ""},
        {"llm_provider": "openai", "llm_model": "", "llm_api_key": "sk-x"},
    ],
    ids=["no-key", "no-model"],
)
async def test_a_misconfigured_provider_is_llm_not_configured(demo_source, user, configure, changes):
    await configure(**changes)
    events = await stream(user, "How many customers are there?")
    assert types(events) == ["error", "done"]
    assert errors(events)[0]["code"] == "LLM_NOT_CONFIGURED"
    await assert_stored(events[-1], events)


async def test_a_failed_run_is_stored_with_what_went_out_before(demo_source, llm, user):
    tool_call(llm, COUNT_CUSTOMERS, provider=llm.provider)
    for _ in range(2):
        llm.enqueue(status=500)
    events = await stream(user, "How many customers are there?")
    assert types(events) == ["tool_start", "sql", "table", "tool_end", "error", "done"]
    done = events[-1]
    assert done["lineage"]["row_count"] == 1 and done["lineage"]["usage"]["total_tokens"] > 0
    await assert_stored(done, events)


async def test_poll_collects_the_same_run(demo_source, llm, user):
    tool_call(llm, COUNT_CUSTOMERS, provider=llm.provider)
    say(llm, "Many.", provider=llm.provider)
    answer = await ask(user, "How many customers are there?")
    assert answer["response"] == "Many."
    assert answer["tools_used"] == ["run_sql"]
    assert answer["metadata"]["mode"] == "llm" and answer["metadata"]["error"] is None
    assert answer["metadata"]["usage"] == answer["lineage"]["usage"]
    message = await sync_to_async(stored)(answer["message_id"])
    assert message.lineage == answer["lineage"] and message.events == answer["events"]


async def test_a_consumer_that_goes_away_cancels_the_run_and_keeps_what_went_out(demo_source, llm, user):
    say(llm, "one ", "two ", "three ", "four", provider=llm.provider, interval=0.5)
    prepared = await chat_prepare(principal=user, message="Count slowly")
    events = chat_stream(prepared)
    first = await anext(events)
    assert first == {"type": "text", "content": "one "}
    await events.aclose()  # the client went away

    llm.wait_for_requests(1)
    deadline = time.monotonic() + 2
    while not llm.disconnects and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert llm.disconnects, "the LLM request was not closed"
    answer = Message.objects.filter(conversation=prepared.conversation, role="assistant")
    message = await sync_to_async(answer.get)()
    assert message.events[0] == first
    assert message.events[-1] == {
        "type": "error",
        "error": {"code": "CANCELLED", "message": "The answer was cancelled."},
    }
    assert message.lineage["confidence"]["tier"] == "low"


async def test_text_before_a_tool_call_and_the_answer_after_it_are_two_paragraphs(demo_source, llm, user):
    llm.enqueue(events=_stream(llm)(["Let me count."], tool_calls=[("run_sql", {"sql": COUNT_CUSTOMERS})]))
    say(llm, "There are ", "200.", provider=llm.provider)
    events = await stream(user, "How many customers are there?")
    assert types(events) == ["text", "tool_start", "sql", "table", "tool_end", "text", "text", "text", "done"]
    texts = [e["content"] for e in events if e["type"] == "text"]
    assert texts == ["Let me count.", "\n\n", "There are ", "200."]
    message = await sync_to_async(stored)(events[-1]["message_id"])
    assert message.content == "Let me count.\n\nThere are 200."


def _stream(llm):
    return anthropic_stream if llm.provider == "anthropic" else openai_stream
