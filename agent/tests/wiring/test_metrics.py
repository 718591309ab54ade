"""A question that names a defined metric is answered from the metric's definition: offline by running the
statement built from the stored entry (and saying so), with the LLM by recognising the metric's SQL when the
model runs it. A metric over a table hidden from the caller's role is not used for that caller."""

import sqlite3

import pytest
from asgiref.sync import sync_to_async

from agent.knowledge.semantic import metric_sql
from agent.models import SemanticMetric
from agent.services.semantic import semantic_metric_create

from ..chat.conftest import ask
from ..engine.script import llm_requests, say, system_prompt, tool_call
from .conftest import HIDDEN

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def revenue(scanned_hidden, admin):
    semantic_metric_create(
        actor=admin,
        data_source=scanned_hidden,
        name="net_revenue",
        synonyms=["turnover"],
        description="Money from orders that were not cancelled",
        expression="SUM(total)",
        table="orders",
        filters=["status <> 'cancelled'"],
    )
    semantic_metric_create(
        actor=admin, data_source=scanned_hidden, name="payroll", expression="SUM(salary)", table=HIDDEN, filters=[]
    )
    return SemanticMetric.objects.get(name="net_revenue")


def table_values(answer: dict) -> list:
    table = next(e for e in answer["events"] if e["type"] == "table")
    return table["rows"]


@pytest.mark.parametrize("question", ["What is our net revenue?", "How much turnover did we make?"])
async def test_offline_a_metric_question_runs_the_metrics_definition(revenue, offline, user, own_data_dir, question):
    answer = await ask(user, question)
    assert answer["metadata"]["error"] is None
    assert 'names the defined metric "net_revenue"' in answer["response"]
    lineage = answer["lineage"]
    assert lineage["metric"] == "net_revenue" and lineage["matched_question"] is None
    assert lineage["confidence"]["tier"] == "high"
    assert lineage["attempts"][0]["sql"] == metric_sql(revenue, "sqlite")
    assert "status <> 'cancelled'" in lineage["sql"] and lineage["tables"] == ["orders"]
    with sqlite3.connect(own_data_dir / "demo.sqlite3") as conn:
        expected = conn.execute("SELECT SUM(total) FROM orders WHERE status <> 'cancelled'").fetchone()[0]
    assert table_values(answer)[0][0] == pytest.approx(float(expected))


async def test_offline_a_metric_over_a_hidden_table_is_not_used_for_a_normal_user(revenue, offline, user, admin):
    hidden = await ask(user, "What is the payroll?")
    assert hidden["lineage"]["metric"] is None and hidden["lineage"]["sql"] is None
    assert "payroll" not in hidden["response"]
    shown = await ask(admin, "What is the payroll?")
    assert shown["lineage"]["metric"] == "payroll" and shown["lineage"]["row_count"] == 1


async def test_offline_a_question_naming_no_metric_is_not_answered_by_one(revenue, offline, user):
    answer = await ask(user, "How many customers live in France?")
    assert answer["lineage"]["metric"] is None and answer["lineage"]["sql"] is None


async def test_with_the_llm_running_the_metrics_sql_sets_the_lineage(revenue, openai_llm, user):
    statement = metric_sql(revenue, "sqlite")
    tool_call(openai_llm, statement)
    say(openai_llm, "Net revenue is shown.")
    answer = await ask(user, "What is our net revenue?")
    assert statement in system_prompt(llm_requests(openai_llm)[0])
    assert answer["lineage"]["metric"] == "net_revenue"
    assert answer["lineage"]["confidence"]["tier"] == "high"
    assert any("net_revenue" in reason for reason in answer["lineage"]["confidence"]["reasons"])


async def test_with_the_llm_other_sql_is_not_credited_to_the_metric(revenue, openai_llm, user):
    tool_call(openai_llm, "SELECT SUM(total) AS value FROM orders")  # cancelled orders counted: not the metric
    say(openai_llm, "Revenue is shown.")
    answer = await ask(user, "What is our net revenue?")
    assert answer["lineage"]["metric"] is None and answer["lineage"]["confidence"]["tier"] == "medium"


async def test_with_the_llm_a_reformatted_metric_sql_is_still_the_metric(revenue, openai_llm, user):
    statement = await sync_to_async(metric_sql)(revenue, "sqlite")
    tool_call(openai_llm, statement.replace(" ", "\n  ").lower() + ";")
    say(openai_llm, "Net revenue is shown.")
    answer = await ask(user, "What is our net revenue?")
    assert answer["lineage"]["metric"] == "net_revenue"
