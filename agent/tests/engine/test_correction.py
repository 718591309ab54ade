"""The correction loop (issue 15 "Correction loop"): a refused or failing query goes back to the model with its
reason, at most ``agent_sql_retries`` times; then the chat ends with ``AGENT_GAVE_UP``. Never more tool calls
than ``agent_max_tool_iterations``. The model is the scripted fake over real HTTP; the SQL runs on the demo."""

import pytest
from asgiref.sync import sync_to_async

from agent.models import DataSource, Message
from agent.services.source_probes import data_source_schema
from majed_vanna.tests.fake_llm import openai_stream

from ..chat.conftest import ask
from .script import COUNT_CUSTOMERS, errors, llm_requests, say, tool_call, tool_messages, types

pytestmark = pytest.mark.django_db(transaction=True)

WRITE = "DELETE FROM customers"
NO_SUCH_COLUMN = "SELECT nickname FROM customers"


def attempts_of(answer) -> list[dict]:
    return answer["lineage"]["attempts"]


@pytest.fixture(params=["openai", "anthropic"])
def llm(request):
    fake = request.getfixturevalue(f"{request.param}_llm")
    fake.provider = request.param
    return fake


async def test_a_refused_query_goes_back_with_its_rule_and_is_corrected(demo_source, llm, user):
    tool_call(llm, WRITE, provider=llm.provider)
    tool_call(llm, COUNT_CUSTOMERS, provider=llm.provider)
    say(llm, "There are ", "many customers.", provider=llm.provider)
    answer = await ask(user, "How many customers are there?")

    assert errors(answer) == [], answer["events"]
    calls = llm_requests(llm)
    assert len(calls) == 3
    refused = tool_messages(calls[1])
    assert len(refused) == 1
    rule = attempts_of(answer)[0]["error"]["details"]["rule"]
    assert rule == "write_node"
    assert "SQL_REFUSED" in refused[0] and f"rule: {rule}" in refused[0], refused
    assert "not allowed" in refused[0]  # the reason itself, in plain words
    assert "row(s)" in tool_messages(calls[2])[-1]  # then the rows went back

    lineage = answer["lineage"]
    assert lineage["retries"] == 1
    assert [(a["sql"], a["ok"]) for a in attempts_of(answer)] == [(WRITE, False), (COUNT_CUSTOMERS, True)]
    assert lineage["sql"] and "customers" in lineage["sql"]
    assert lineage["confidence"]["tier"] == "low"
    assert any("correction" in r for r in lineage["confidence"]["reasons"]), lineage["confidence"]
    assert types(answer) == [
        "tool_start",
        "sql",
        "tool_end",
        "tool_start",
        "sql",
        "table",
        "tool_end",
        "text",
        "text",
    ]
    failed = next(e for e in answer["events"] if e["type"] == "tool_end")
    assert failed["ok"] is False and failed["error"]["code"] == "SQL_REFUSED"
    assert answer["response"] == "There are many customers."


@pytest.mark.parametrize("retries", [0, 1, 2])
async def test_a_model_that_never_writes_valid_sql_gives_up_after_the_retries(
    demo_source, openai_llm, user, configure, retries
):
    await configure(agent_sql_retries=retries, agent_max_tool_iterations=10)
    for _ in range(12):
        tool_call(openai_llm, WRITE)
    answer = await ask(user, "Delete the customers")

    assert len(llm_requests(openai_llm)) == retries + 1
    assert len(attempts_of(answer)) == retries + 1
    assert [e["code"] for e in errors(answer)] == ["AGENT_GAVE_UP"]
    assert types(answer)[-1] == "error"
    assert answer["lineage"]["retries"] == retries + 1
    assert answer["lineage"]["confidence"]["tier"] == "low"
    gave_up = errors(answer)[0]
    assert gave_up["details"]["last_error"]["code"] == "SQL_REFUSED"
    stored = await sync_to_async(Message.objects.get)(pk=answer["message_id"])
    assert stored.events == answer["events"] and stored.lineage == answer["lineage"]
    assert stored.usage["total_tokens"] == 25 * (retries + 1)


async def test_the_default_allows_two_corrections(demo_source, openai_llm, user):
    for _ in range(5):
        tool_call(openai_llm, WRITE)
    answer = await ask(user, "Delete the customers")
    assert len(llm_requests(openai_llm)) == 3
    assert [e["code"] for e in errors(answer)] == ["AGENT_GAVE_UP"]


async def test_never_more_tool_calls_than_configured(demo_source, openai_llm, user, configure):
    """Valid queries that never lead to an answer: the model is stopped at the limit (not an error)."""
    await configure(agent_sql_retries=5, agent_max_tool_iterations=2)
    for _ in range(6):
        tool_call(openai_llm, COUNT_CUSTOMERS)
    answer = await ask(user, "How many customers are there?")
    assert types(answer).count("tool_start") == 2
    calls = llm_requests(openai_llm)
    assert len(calls) == 3  # two with a tool call each, then a last one to answer (its tool call is dropped)
    assert "last tool call allowed" in tool_messages(calls[2])[-1]
    assert errors(answer) == []
    assert answer["lineage"]["row_count"] is not None


async def test_the_limit_counts_calls_not_answers(demo_source, openai_llm, user, configure):
    """Several tool calls in one answer count one by one: the ones past the limit never run."""
    await configure(agent_max_tool_iterations=2)
    openai_llm.enqueue(events=openai_stream(tool_calls=[("run_sql", {"sql": COUNT_CUSTOMERS})] * 4))
    say(openai_llm, "Done.")
    answer = await ask(user, "How many customers are there?")
    assert types(answer).count("tool_start") == 2, types(answer)
    calls = llm_requests(openai_llm)
    assert len(calls) == 2
    results = tool_messages(calls[1])
    assert len(results) == 4  # every call gets an answer (the API requires it); the last two did not run
    assert all("No more tool calls" in r for r in results[2:]), results
    assert answer["response"] == "Done."


async def test_refusals_past_the_limit_end_as_given_up(demo_source, openai_llm, user, configure):
    await configure(agent_sql_retries=5, agent_max_tool_iterations=3)
    for _ in range(8):
        tool_call(openai_llm, WRITE)
    answer = await ask(user, "Delete the customers")
    assert types(answer).count("tool_start") == 3
    assert len(llm_requests(openai_llm)) == 3
    assert [e["code"] for e in errors(answer)] == ["AGENT_GAVE_UP"]


async def test_a_missing_column_is_corrected_the_same_way(demo_source, openai_llm, user):
    tool_call(openai_llm, NO_SUCH_COLUMN)
    tool_call(openai_llm, "SELECT name FROM customers LIMIT 3")
    say(openai_llm, "Here are three customers.")
    answer = await ask(user, "Name three customers")

    assert errors(answer) == []
    sent = tool_messages(llm_requests(openai_llm)[1])[0]
    assert sent.startswith("SQL_ERROR") and "nickname" in sent, sent
    assert attempts_of(answer)[0]["error"]["code"] == "SQL_ERROR"
    assert answer["lineage"]["retries"] == 1
    assert answer["lineage"]["row_count"] == 3


async def test_a_timeout_is_corrected_the_same_way(demo_source, openai_llm, user):
    await sync_to_async(DataSource.objects.filter(pk=demo_source.pk).update)(statement_timeout_ms=150)
    slow = "SELECT count(*) AS n FROM order_items a, order_items b, order_items c"
    tool_call(openai_llm, slow)
    tool_call(openai_llm, COUNT_CUSTOMERS)
    say(openai_llm, "Counted.")
    answer = await ask(user, "Count everything")

    assert errors(answer) == [], answer["events"]
    sent = tool_messages(llm_requests(openai_llm)[1])[0]
    assert sent.startswith("SQL_TIMEOUT"), sent
    assert [a["ok"] for a in attempts_of(answer)] == [False, True]
    assert attempts_of(answer)[0]["error"]["code"] == "SQL_TIMEOUT"


@pytest.mark.parametrize(
    "name, args, said",
    [
        ("run_sql", {}, "sql: Field required"),
        ("run_sql", {"query": "SELECT 1"}, "sql: Field required"),
        ("run_sql", {"sql": ""}, "sql: String should have at least 1 character"),
        ("run_sql", {"sql": ["SELECT 1"]}, "sql: Input should be a valid string"),
        ("drop_database", {"sql": "SELECT 1"}, "There is no tool named 'drop_database'. The tools are: run_sql."),
    ],
    ids=["no-args", "wrong-arg", "empty-sql", "sql-not-a-string", "unknown-tool"],
)
async def test_bad_tool_calls_go_back_to_the_model_without_crashing(demo_source, openai_llm, user, name, args, said):
    tool_call(openai_llm, name=name, args=args)
    tool_call(openai_llm, COUNT_CUSTOMERS)
    say(openai_llm, "Fine.")
    answer = await ask(user, "How many customers are there?")

    assert errors(answer) == [], answer["events"]
    assert types(answer)[-1] == "text"
    sent = tool_messages(llm_requests(openai_llm)[1])[0]
    assert said in sent, sent
    assert "Traceback" not in sent and "pydantic" not in sent
    assert answer["lineage"]["row_count"] is not None
    assert answer["response"] == "Fine."


@pytest.mark.parametrize("schema_known", [True, False], ids=["during-the-run", "before-the-schema-is-read"])
async def test_a_data_source_that_is_down_ends_the_run_at_once(
    demo_source, openai_llm, user, own_data_dir, schema_known
):
    if schema_known:
        await data_source_schema(source=demo_source)  # stored with the source: the model gets its prompt
    (own_data_dir / "demo.sqlite3").unlink()
    for _ in range(4):
        tool_call(openai_llm, COUNT_CUSTOMERS)
    answer = await ask(user, "How many customers are there?")

    # one model call at most: no correction round, nothing the model writes can help
    assert len(llm_requests(openai_llm)) == (1 if schema_known else 0)
    found = errors(answer)
    assert len(found) == 1
    assert "cannot be reached" in found[0]["message"]
    assert types(answer)[-1] == "error"
    assert len(attempts_of(answer)) == (1 if schema_known else 0)
    assert found[0]["code"] == "SQL_ERROR" and found[0]["details"]["data_source"] == "demo"


async def test_an_open_data_source_breaker_fails_before_the_model_is_asked(
    demo_source, openai_llm, user, own_data_dir, configure
):
    await configure(circuit_breaker_failure_threshold=1)
    await data_source_schema(source=demo_source)
    (own_data_dir / "demo.sqlite3").unlink()
    tool_call(openai_llm, COUNT_CUSTOMERS)
    first = await ask(user, "How many customers are there?")  # the failure opens the source's breaker
    assert "cannot be reached" in errors(first)[0]["message"]

    second = await ask(user, "How many customers are there?")
    assert len(llm_requests(openai_llm)) == 1  # only the first chat reached the model
    assert types(second) == ["error"]
    error = errors(second)[0]
    assert error["code"] == "SQL_ERROR" and "cannot be reached" in error["message"]
    assert error["details"]["retry_after"] > 0
    assert "data_source:" not in str(error)  # the breaker's internal name stays inside
