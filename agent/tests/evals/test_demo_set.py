"""The demo evaluation set: 50+ cases, each reference accepted by the gate and answered by the demo data."""

import pytest
from asgiref.sync import async_to_sync

from agent.evals.demo_set import CASES
from agent.services.queries import data_source_query

pytestmark = pytest.mark.django_db(transaction=True)


def test_at_least_fifty_distinct_questions():
    questions = [q for q, _ in CASES]
    assert len(questions) >= 50 and len(set(questions)) == len(questions)


def test_every_reference_runs_on_the_demo_data(demo_source, admin):
    empty = []
    for question, sql in CASES:
        result = async_to_sync(data_source_query)(source=demo_source, sql=sql, principal=admin)
        if not result.rows or all(v is None for v in result.rows[0]):
            empty.append(question)
    # a reference that answers nothing cannot tell a right answer from a wrong one
    assert empty == [], empty


def test_the_demo_set_installs_once(demo_source):
    from agent.services.evals import demo_eval_set_install

    eval_set, added = demo_eval_set_install(source=demo_source, by="test")
    assert added == len(CASES) and eval_set.cases.count() == len(CASES)
    assert demo_eval_set_install(source=demo_source, by="test") == (eval_set, 0)
