"""Lineage and confidence (``agent.engine.lineage``): the tier comes from evidence only, with the reasons."""

import pytest
from asgiref.sync import sync_to_async

from agent.engine.lineage import confidence, lineage
from agent.engine.run import Run, SqlAttempt
from agent.models import DataSource, Memory
from agent.models.knowledge import MemoryKind, MemoryStatus

from ..chat.conftest import ask
from .script import say, tool_call


def ran(**fields) -> Run:
    """A run whose SQL ran at the first try and returned rows, changed by ``fields``."""
    run = Run(principal=None, question="q", conversation_id="c", data_source=None)
    run.sql, run.row_count = "SELECT 1", 3
    run.attempts = [SqlAttempt("SELECT 1", True, 1.0)]
    for name, value in fields.items():
        setattr(run, name, value)
    return run


MATCHED = {"memory_id": "m1", "question": "How many orders?", "score": 0.91}
FAILED = SqlAttempt("SELECT nope", False, 1.0, {"code": "SQL_ERROR", "message": "no such column"})


@pytest.mark.parametrize(
    "fields, tier, reason",
    [
        ({}, "medium", "written for this question"),
        ({"matched": MATCHED}, "high", 'matched the saved question "How many orders?" (similarity 0.91)'),
        ({"metric": "revenue"}, "high", 'used the defined metric "revenue"'),
        ({"memories": ["m1", "m2"]}, "medium", "2 saved example(s) guided the SQL"),
        ({"attempts": [FAILED, SqlAttempt("SELECT 1", True, 1.0)]}, "low", "needed 1 correction(s)"),
        ({"row_count": 0}, "low", "the result is empty"),
        ({"truncated": True}, "low", "truncated"),
        ({"matched": MATCHED, "row_count": 0}, "low", "the result is empty"),
        ({"matched": MATCHED, "attempts": [FAILED, SqlAttempt("SELECT 1", True, 1)]}, "low", "correction"),
        ({"sql": "", "row_count": None, "attempts": []}, "low", "no SQL ran"),
    ],
    ids=[
        "written",
        "saved-question",
        "metric",
        "examples",
        "corrected",
        "empty",
        "truncated",
        "saved-but-empty",
        "saved-but-corrected",
        "no-sql",
    ],
)
def test_confidence_follows_the_evidence(fields, tier, reason):
    found = confidence(ran(**fields))
    assert found["tier"] == tier
    assert any(reason in r for r in found["reasons"]), found["reasons"]


def test_every_piece_of_evidence_is_listed():
    found = confidence(ran(attempts=[FAILED, SqlAttempt("SELECT 1", True, 1)], row_count=0, truncated=True))
    assert len(found["reasons"]) == 3


def test_the_lineage_has_the_contract_fields():
    record = lineage(ran(tables=["orders"], provider="openai", model="m"))
    contract = {"sql", "tables", "data_source", "memories", "semantic", "row_count", "truncated", "retries"}
    assert contract | {"timings_ms", "provider", "model", "confidence"} <= set(record)
    assert set(record["timings_ms"]) == {"llm", "sql", "total"}
    assert set(record["confidence"]) == {"tier", "reasons"}


# --- in a run
pytestmark_db = pytest.mark.django_db(transaction=True)


@pytestmark_db
async def test_an_empty_result_is_low(demo_source, openai_llm, user):
    tool_call(openai_llm, "SELECT name FROM customers WHERE country = 'Atlantis'")
    say(openai_llm, "None.")
    answer = await ask(user, "Customers in Atlantis?")
    assert answer["lineage"]["row_count"] == 0
    assert answer["lineage"]["confidence"]["tier"] == "low"


@pytestmark_db
async def test_a_truncated_result_is_low(demo_source, openai_llm, user):
    await sync_to_async(DataSource.objects.filter(pk=demo_source.pk).update)(row_cap=10)
    tool_call(openai_llm, "SELECT name FROM customers")
    say(openai_llm, "Here they are.")
    answer = await ask(user, "List the customers")
    assert answer["lineage"]["truncated"] is True and answer["lineage"]["row_count"] == 10
    assert answer["lineage"]["confidence"]["tier"] == "low"


def _approved(source, question, sql):
    return Memory.objects.create(
        kind=MemoryKind.QUESTION_SQL, question=question, sql=sql, data_source=source, status=MemoryStatus.APPROVED
    )


@pytestmark_db
async def test_the_model_running_a_close_saved_questions_sql_is_high(demo_source, openai_llm, user):
    saved_sql = "SELECT count(*) AS n FROM orders WHERE status = 'cancelled'"
    memory = await sync_to_async(_approved)(demo_source, "How many orders were cancelled?", saved_sql)
    tool_call(openai_llm, saved_sql.lower() + ";")  # the same query, as the model wrote it
    say(openai_llm, "Some were cancelled.")
    answer = await ask(user, "How many orders were cancelled?")
    lineage_ = answer["lineage"]
    assert lineage_["confidence"]["tier"] == "high", lineage_["confidence"]
    assert lineage_["matched_question"]["memory_id"] == str(memory.pk)
    assert lineage_["memories"] == [str(memory.pk)]


@pytestmark_db
async def test_other_sql_than_the_saved_questions_is_medium(demo_source, openai_llm, user):
    await sync_to_async(_approved)(
        demo_source, "How many orders were cancelled?", "SELECT count(*) FROM orders WHERE status = 'cancelled'"
    )
    tool_call(openai_llm, "SELECT count(*) AS n FROM orders WHERE status IN ('cancelled')")
    say(openai_llm, "Some were cancelled.")
    answer = await ask(user, "How many orders were cancelled?")
    assert answer["lineage"]["confidence"]["tier"] == "medium"
    assert answer["lineage"]["matched_question"] is None
