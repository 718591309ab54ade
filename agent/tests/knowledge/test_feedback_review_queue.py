"""The review queue end to end, through real chat runs: a user's correction answers that user's next question at
once, nobody else's until a reviewer approves it, and then everyone's."""

import sqlite3

import pytest
from asgiref.sync import sync_to_async

from accounts.tests.factories import UserFactory
from agent.tests.chat.conftest import ask
from config_api.services import config_update
from majed_vanna.tests.fake_llm import openai_stream

from .conftest import SHIPPED, SHIPPED_SQL, WRONG_SQL

pytestmark = pytest.mark.django_db(transaction=True)
FEEDBACK = "/api/v1/agent/feedback"


def shipped_count(source_path) -> int:
    with sqlite3.connect(source_path) as connection:
        return connection.execute("SELECT count(*) FROM orders WHERE status = 'shipped'").fetchone()[0]


def table_of(answer) -> dict | None:
    return next((e for e in answer["events"] if e["type"] == "table"), None)


async def test_a_correction_is_used_for_others_only_after_review(
    demo_source, openai_llm, own_data_dir, user, admin, superuser, api_client_for
):
    other = await sync_to_async(UserFactory)(role="normal")
    openai_llm.enqueue(events=openai_stream(tool_calls=[("run_sql", {"sql": WRONG_SQL})]))
    openai_llm.enqueue(events=openai_stream(["All orders: see the table."]))
    first = await ask(user, SHIPPED)
    assert first["lineage"]["sql"] and "shipped" not in first["lineage"]["sql"]

    author = await sync_to_async(api_client_for)(user)
    body = {"message_id": first["message_id"], "rating": "down", "corrected_sql": SHIPPED_SQL}
    given = await sync_to_async(author.post)(FEEDBACK, body, format="json")
    assert given.status_code == 201, given.content
    feedback_id, memory_id = given.json()["data"]["id"], given.json()["data"]["memory"]["id"]

    await sync_to_async(config_update)(actor=admin, changes={"llm_provider": "none"})  # offline: memory answers
    expected = shipped_count(own_data_dir / "demo.sqlite3")

    before_review = await ask(other, SHIPPED)
    assert memory_id not in before_review["lineage"]["memories"]  # not even as an example
    assert (before_review["lineage"]["matched_question"] or {}).get("memory_id") != memory_id

    own = await ask(user, SHIPPED)  # the author's own draft answers the author at once
    assert own["lineage"]["matched_question"]["memory_id"] == memory_id
    assert table_of(own)["rows"] == [[expected]]

    reviewer = await sync_to_async(api_client_for)(superuser)
    approved = await sync_to_async(reviewer.post)(f"{FEEDBACK}/{feedback_id}/approve", {}, format="json")
    assert approved.status_code == 200, approved.content

    after_review = await ask(other, SHIPPED)
    assert after_review["lineage"]["matched_question"]["memory_id"] == memory_id
    assert "shipped" in after_review["lineage"]["sql"]
    assert table_of(after_review)["rows"] == [[expected]]
