"""The chat core end to end in-process: offline passthrough and an LLM tool call over real HTTP."""

import pytest

from majed_vanna.tests.fake_llm import openai_stream

from .conftest import ask

pytestmark = pytest.mark.django_db(transaction=True)


async def test_offline_sql_passthrough(demo_source, offline, user):
    answer = await ask(user, "SELECT count(*) AS n FROM customers")
    types = [e["type"] for e in answer["events"]]
    assert "table" in types, answer
    table = next(e for e in answer["events"] if e["type"] == "table")
    assert table["rows"][0][0] > 0


async def test_llm_tool_call_then_answer(demo_source, openai_llm, user):
    openai_llm.enqueue(events=openai_stream(tool_calls=[("run_sql", {"sql": "SELECT count(*) AS n FROM customers"})]))
    openai_llm.enqueue(events=openai_stream(["There are ", "many customers."], usage=(10, 5)))
    answer = await ask(user, "How many customers are there?")
    types = [e["type"] for e in answer["events"]]
    assert types[:4] == ["tool_start", "sql", "table", "tool_end"], answer
    assert answer["response"] == "There are many customers."
    assert answer["lineage"]["tables"] == ["customers"]
    assert answer["lineage"]["confidence"]["tier"] == "medium", answer["lineage"]
    assert answer["lineage"]["usage"]["total_tokens"] == 15
