"""Evaluation runs through the agent's chat path: right, wrong and failing answers scored against references."""

import pytest
from asgiref.sync import async_to_sync

from agent.evals.runner import eval_run_execute
from agent.models import EvalRun, EvalRunStatus
from agent.services import evals as services
from majed_vanna.tests.fake_llm import openai_stream

pytestmark = pytest.mark.django_db(transaction=True)

COUNT = "SELECT count(*) FROM customers"


def tool_call(sql):
    return openai_stream(tool_calls=[("run_sql", {"sql": sql})], usage=(10, 2))


def answer(text="Done."):
    return openai_stream([text], usage=(20, 3))


@pytest.fixture
def eval_set(demo_source, admin):
    return services.eval_set_import(
        data_source=demo_source,
        name="demo",
        description="",
        cases=[
            {"question": "How many customers are there?", "reference_sql": COUNT},
            {"question": "Which product categories exist?", "reference_sql": "SELECT DISTINCT category FROM products"},
            {
                "question": "How many orders were cancelled?",
                "reference_sql": "SELECT count(*) FROM orders WHERE status = 'cancelled'",
            },
        ],
        actor=admin,
    )


def start(eval_set, admin) -> EvalRun:
    return EvalRun.objects.create(eval_set=eval_set, total=3, started_by_id=str(admin.pk), started_by_name="a")


def results_by_question(run):
    return {r.question: r for r in run.results.all()}


def test_right_wrong_and_failing_answers_are_scored(eval_set, admin, openai_llm, settings):
    settings.EVAL_CONCURRENCY = 1  # the fake answers in order: one case at a time
    fake = openai_llm
    # case 1: right (other column name); case 2: wrong rows; case 3: never valid SQL -> gave up
    fake.enqueue(events=tool_call("SELECT count(*) AS how_many FROM customers"))
    fake.enqueue(events=answer())
    fake.enqueue(events=tool_call("SELECT DISTINCT name FROM products"))
    fake.enqueue(events=answer())
    for _ in range(3):
        fake.enqueue(events=tool_call("DELETE FROM orders"))
    run = start(eval_set, admin)
    finished = async_to_sync(eval_run_execute)(run.pk)
    assert finished.status == EvalRunStatus.SUCCEEDED
    results = results_by_question(finished)
    assert results["How many customers are there?"].matched, [
        (r.question, r.reason, r.sql, r.error) for r in results.values()
    ]
    assert not results["Which product categories exist?"].matched
    gave_up = results["How many orders were cancelled?"]
    assert not gave_up.matched and gave_up.error["code"] == "AGENT_GAVE_UP"
    summary = finished.summary
    assert summary["cases"] == 3 and summary["matched"] == 1
    assert summary["execution_accuracy"] == pytest.approx(1 / 3, abs=1e-3)
    assert summary["errors"] == 1
    assert summary["tokens"]["total_tokens"] > 0
    assert sum(row["cases"] for row in summary["by_confidence"].values()) == 3
    assert finished.done == 3 and finished.mode == "llm" and finished.model == "fake-model-1"


def test_offline_runs_score_saved_sql_and_no_conversation_is_stored(eval_set, admin, offline):
    from agent.models import Conversation

    run = start(eval_set, admin)
    finished = async_to_sync(eval_run_execute)(run.pk)
    assert finished.status == EvalRunStatus.SUCCEEDED and finished.mode == "offline"
    assert finished.summary["cases"] == 3
    assert not Conversation.objects.exists()  # asked like a chat, stored as results only


def test_a_run_is_claimed_once(eval_set, admin, offline):
    run = start(eval_set, admin)
    assert async_to_sync(eval_run_execute)(run.pk) is not None
    assert async_to_sync(eval_run_execute)(run.pk) is None  # a redelivered task does nothing
    assert run.results.count() == 3


def test_diff_lists_regressed_cases_against_the_baseline(eval_set, admin, openai_llm, settings):
    settings.EVAL_CONCURRENCY = 1
    fake = openai_llm
    right = [
        "SELECT count(*) FROM customers",
        "SELECT DISTINCT category FROM products",
        "SELECT count(*) FROM orders WHERE status = 'cancelled'",
    ]
    for sql in right:
        fake.enqueue(events=tool_call(sql))
        fake.enqueue(events=answer())
    first = async_to_sync(eval_run_execute)(start(eval_set, admin).pk)
    assert first.summary["matched"] == 3 and first.diff is None
    services.eval_run_baseline(run=first, actor=admin)
    for sql in [right[0], "SELECT DISTINCT name FROM products", right[2]]:
        fake.enqueue(events=tool_call(sql))
        fake.enqueue(events=answer())
    second = async_to_sync(eval_run_execute)(start(eval_set, admin).pk)
    assert second.diff["against"] == str(first.pk) and second.diff["against_baseline"] is True
    assert [row["question"] for row in second.diff["regressed"]] == ["Which product categories exist?"]
    assert second.diff["improved"] == []
