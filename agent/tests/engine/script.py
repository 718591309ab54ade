"""Scripting the fake LLM for the engine's tests: what the model "says" next, in either provider's wire format,
and what the engine sent it."""

from majed_vanna.tests.fake_llm import anthropic_stream, openai_stream

COUNT_CUSTOMERS = "SELECT count(*) AS n FROM customers"


def tool_call(fake, sql=None, *, provider="openai", name="run_sql", args=None, usage=(20, 5)):
    """The model's next answer is one tool call (``run_sql`` with ``sql`` unless ``name``/``args`` say otherwise)."""
    arguments = args if args is not None else {"sql": sql}
    stream = anthropic_stream if provider == "anthropic" else openai_stream
    fake.enqueue(events=stream(tool_calls=[(name, arguments)], usage=usage))


def say(fake, *texts, provider="openai", usage=(30, 7), interval=0.0):
    """The model's next answer is text, streamed as ``texts`` (one delta each)."""
    stream = anthropic_stream if provider == "anthropic" else openai_stream
    fake.enqueue(events=stream(list(texts), usage=usage), interval=interval)


def llm_requests(fake) -> list:
    """The model calls the fake received (not the key checks or model listings)."""
    return [r for r in fake.requests if r.method == "POST"]


def tool_messages(request) -> list[str]:
    """The tool results the engine sent back to the model in ``request`` (either provider's format)."""
    found = []
    for message in request.body.get("messages", []):
        if message.get("role") == "tool":
            found.append(message.get("content") or "")
        elif isinstance(message.get("content"), list):
            found += [str(b.get("content")) for b in message["content"] if b.get("type") == "tool_result"]
    return found


def system_prompt(request) -> str:
    body = request.body
    if "system" in body:
        return body["system"]
    return next((m["content"] for m in body["messages"] if m["role"] == "system"), "")


def types(answer_or_events) -> list[str]:
    events = answer_or_events["events"] if isinstance(answer_or_events, dict) else answer_or_events
    return [e["type"] for e in events]


def errors(answer_or_events) -> list[dict]:
    events = answer_or_events["events"] if isinstance(answer_or_events, dict) else answer_or_events
    return [e["error"] for e in events if e["type"] == "error"]
