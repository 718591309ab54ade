"""``agent/feedback``: a caller rates their own answer; a correction is a draft only its author uses until an
``admin_tools`` reviewer approves it (then everyone's answers may use it) or rejects it (then nobody's)."""

import pytest

from accounts.models import AuditLog
from accounts.tests.factories import UserFactory
from agent import selectors
from agent.models import Feedback, Memory
from agent.sql import gate
from agent.sql.types import SqlRefused

from .conftest import SHIPPED, SHIPPED_SQL, WRONG_SQL, answered

pytestmark = pytest.mark.django_db
FEEDBACK = "/api/v1/agent/feedback"


def usable_sql(principal, source) -> set[str]:
    return set(selectors.memories_usable(principal, source).filter(kind="question_sql").values_list("sql", flat=True))


def give(client, answer, **body):
    return client.post(FEEDBACK, {"message_id": str(answer.pk), **body}, format="json")


def review(client, feedback_id, verb, **body):
    return client.post(f"{FEEDBACK}/{feedback_id}/{verb}", body, format="json")


def gate_rule(sql: str) -> str:
    with pytest.raises(SqlRefused) as refused:
        gate.check(sql, dialect="sqlite", tables=["orders", "customers"])
    return refused.value.rule


def test_a_correction_is_a_draft_that_only_its_author_uses(shop_source, user, admin, api_client_for):
    other = UserFactory(role="normal")
    answer = answered(user, source=shop_source)
    response = give(api_client_for(user), answer, rating="down", corrected_sql=SHIPPED_SQL, comment="only shipped")
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert (data["status"], data["rating"], data["question"]) == ("pending", "down", SHIPPED)
    assert (data["answer_sql"], data["corrected_sql"], data["sql"]) == (WRONG_SQL, SHIPPED_SQL, SHIPPED_SQL)
    assert data["memory"]["scope"] == "private" and data["memory"]["status"] == "draft"
    assert data["author"] == {"type": "user", "id": str(user.pk), "name": user.username}
    assert SHIPPED_SQL in usable_sql(user, shop_source)  # the author's own next answers use it at once
    assert SHIPPED_SQL not in usable_sql(other, shop_source)  # nobody else's, an admin's included
    assert SHIPPED_SQL not in usable_sql(admin, shop_source)
    row = AuditLog.objects.get(action="feedback.create", resource_id=data["id"])
    assert row.user_id == str(user.pk) and row.details["corrected"] is True and row.details["rating"] == "down"


def test_a_thumbs_up_drafts_the_answers_own_sql(shop_source, user, api_client_for):
    answer = answered(user, source=shop_source, sql=SHIPPED_SQL)
    data = give(api_client_for(user), answer, rating="up").json()["data"]
    memory = Memory.objects.get(pk=data["memory"]["id"])
    assert (memory.question, memory.sql, memory.scope, memory.status) == (SHIPPED, SHIPPED_SQL, "private", "draft")
    assert memory.owner_id == user.pk and memory.data_source_id == shop_source.pk


def test_a_thumbs_up_on_a_saved_questions_answer_drafts_no_duplicate(shop_source, user, api_client_for):
    answer = answered(user, source=shop_source, sql=SHIPPED_SQL, matched_question={"memory_id": "x", "score": 0.9})
    data = give(api_client_for(user), answer, rating="up").json()["data"]
    assert data["memory"] is None and data["status"] == "pending"


def test_a_corrected_sql_the_gate_refuses_is_422_with_the_rule(shop_source, user, api_client_for):
    answer = answered(user, source=shop_source)
    for bad in ("DELETE FROM orders", "SELECT * FROM orders; DROP TABLE orders"):
        response = give(api_client_for(user), answer, rating="down", corrected_sql=bad)
        assert response.status_code == 422, response.content
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert error["details"]["rule"] == gate_rule(bad)
        assert error["details"]["rule"] in error["details"]["corrected_sql"][0]
    assert not Feedback.objects.exists() and not Memory.objects.filter(owner=user).exists()
    assert AuditLog.objects.filter(action="agent.sql_refused", user_id=str(user.pk)).count() == 2


def test_only_the_owner_of_the_answer_may_rate_it(shop_source, user, admin, api_client_for):
    answer = answered(user, source=shop_source)
    stranger = UserFactory(role="normal")
    for caller in (stranger, admin):  # an admin who may read the conversation may still not speak for its owner
        response = give(api_client_for(caller), answer, rating="up")
        assert response.status_code == 404 and response.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    response = api_client_for(user).post(
        FEEDBACK, {"message_id": "00000000-0000-4000-8000-000000000001", "rating": "up"}, format="json"
    )
    assert response.status_code == 404
    assert not Feedback.objects.exists()


def test_feedback_is_given_on_an_answer_not_on_a_question(shop_source, user, api_client_for):
    answer = answered(user, source=shop_source)
    question = answer.conversation.messages.get(role="user")
    response = give(api_client_for(user), question, rating="up")
    assert response.status_code == 422 and "message_id" in response.json()["error"]["details"]


def test_rating_again_while_pending_replaces_the_feedback_and_after_review_conflicts(
    shop_source, user, superuser, api_client_for
):
    answer = answered(user, source=shop_source, sql=WRONG_SQL)
    client = api_client_for(user)
    first = give(client, answer, rating="up").json()["data"]
    assert first["sql"] == WRONG_SQL
    second = give(client, answer, rating="down", corrected_sql=SHIPPED_SQL)
    assert second.status_code == 200, second.content
    assert second.json()["data"]["id"] == first["id"] and second.json()["data"]["sql"] == SHIPPED_SQL
    assert usable_sql(user, shop_source) >= {SHIPPED_SQL} and WRONG_SQL not in usable_sql(user, shop_source)
    assert Feedback.objects.count() == 1
    assert review(api_client_for(superuser), first["id"], "reject").status_code == 200
    third = give(client, answer, rating="up")
    assert third.status_code == 409 and third.json()["error"]["code"] == "CONFLICT"


def test_a_normal_user_cannot_list_or_review_the_queue(shop_source, user, api_client_for):
    answer = answered(user, source=shop_source)
    feedback_id = give(api_client_for(user), answer, rating="down", corrected_sql=SHIPPED_SQL).json()["data"]["id"]
    client = api_client_for(user)
    before = AuditLog.objects.filter(action="permission.denied", user_id=str(user.pk)).count()
    responses = [
        client.get(FEEDBACK),
        review(client, feedback_id, "approve"),
        review(client, feedback_id, "reject"),
    ]
    assert [r.status_code for r in responses] == [403, 403, 403]
    assert {r.json()["error"]["code"] for r in responses} == {"PERMISSION_DENIED"}
    assert AuditLog.objects.filter(action="permission.denied", user_id=str(user.pk)).count() == before + 3
    assert Feedback.objects.get(pk=feedback_id).status == "pending"
    assert SHIPPED_SQL not in usable_sql(UserFactory(role="normal"), shop_source)


def test_approval_makes_the_correction_shared_knowledge(shop_source, user, superuser, api_client_for):
    other = UserFactory(role="normal")
    answer = answered(user, source=shop_source)
    feedback_id = give(api_client_for(user), answer, rating="down", corrected_sql=SHIPPED_SQL).json()["data"]["id"]
    reviewer = api_client_for(superuser)  # admin_tools
    queue = reviewer.get(FEEDBACK, {"status": "pending"}).json()["data"]
    assert [f["id"] for f in queue["feedback"]] == [feedback_id] and queue["total"] == 1
    response = review(reviewer, feedback_id, "approve", note="checked")
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["status"] == "approved" and data["reviewed_by_name"] == superuser.username
    assert (data["memory"]["scope"], data["memory"]["status"]) == ("global", "approved")
    memory = Memory.objects.get(pk=data["memory"]["id"])
    assert memory.owner_id is None and memory.owner_client_id == ""  # nobody may change it as their own
    assert SHIPPED_SQL in usable_sql(other, shop_source)
    assert reviewer.get(FEEDBACK, {"status": "pending"}).json()["data"]["total"] == 0
    assert reviewer.get(FEEDBACK, {"status": "approved"}).json()["data"]["feedback"][0]["id"] == feedback_id
    row = AuditLog.objects.get(action="feedback.approve", resource_id=feedback_id)
    assert row.user_id == str(superuser.pk) and row.details["edited"] == []
    again = review(reviewer, feedback_id, "reject")
    assert again.status_code == 409


def test_an_edited_approval_is_gate_checked(shop_source, user, superuser, api_client_for):
    answer = answered(user, source=shop_source)
    feedback_id = give(api_client_for(user), answer, rating="up").json()["data"]["id"]
    reviewer = api_client_for(superuser)
    refused = review(reviewer, feedback_id, "approve", sql="DROP TABLE orders")
    assert refused.status_code == 422, refused.content
    details = refused.json()["error"]["details"]
    assert details["rule"] == gate_rule("DROP TABLE orders") and "sql" in details
    assert Feedback.objects.get(pk=feedback_id).status == "pending"
    edited_question = "Number of shipped orders"
    approved = review(reviewer, feedback_id, "approve", question=edited_question, sql=SHIPPED_SQL)
    assert approved.status_code == 200, approved.content
    memory = Memory.objects.get(pk=approved.json()["data"]["memory"]["id"])
    assert (memory.question, memory.sql, memory.status, memory.scope) == (
        edited_question,
        SHIPPED_SQL,
        "approved",
        "global",
    )
    assert Memory.objects.filter(sql=WRONG_SQL).count() == 0  # the draft became the approved memory
    assert AuditLog.objects.get(action="feedback.approve").details["edited"] == ["question", "sql"]


def test_a_thumbs_down_without_correction_needs_the_reviewers_sql(shop_source, user, superuser, api_client_for):
    answer = answered(user, source=shop_source)
    data = give(api_client_for(user), answer, rating="down", comment="wrong count").json()["data"]
    assert data["memory"] is None and data["sql"] == ""
    assert WRONG_SQL not in usable_sql(user, shop_source)  # a wrong answer is not learnt, even privately
    reviewer = api_client_for(superuser)
    missing = review(reviewer, data["id"], "approve")
    assert missing.status_code == 422 and "sql" in missing.json()["error"]["details"]
    approved = review(reviewer, data["id"], "approve", sql=SHIPPED_SQL).json()["data"]
    assert approved["memory"]["status"] == "approved" and approved["memory"]["question"] == SHIPPED


def test_rejection_retires_the_draft_for_its_author_too(shop_source, user, superuser, api_client_for):
    answer = answered(user, source=shop_source)
    data = give(api_client_for(user), answer, rating="down", corrected_sql=SHIPPED_SQL).json()["data"]
    response = review(api_client_for(superuser), data["id"], "reject", note="the old answer was right")
    assert response.status_code == 200, response.content
    assert response.json()["data"]["review_note"] == "the old answer was right"
    assert Memory.objects.get(pk=data["memory"]["id"]).status == "retired"
    assert SHIPPED_SQL not in usable_sql(user, shop_source)
    assert AuditLog.objects.filter(action="feedback.reject", resource_id=data["id"]).count() == 1


def test_an_integration_clients_correction_is_its_own_until_approved(shop_source, user, api_client_for):
    from rest_framework.test import APIClient

    from integrations.principal import IntegrationPrincipal
    from integrations.services import client_create

    issued = client_create(name="Support bot", permissions=["use_chat"])
    bot = IntegrationPrincipal(issued.client)
    answer = answered(bot, source=shop_source)
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=issued.api_key)
    response = give(client, answer, rating="down", corrected_sql=SHIPPED_SQL)
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["author"] == {"type": "integration", "id": bot.integration_client_id, "name": "Support bot"}
    assert Memory.objects.get(pk=data["memory"]["id"]).owner_client_id == bot.integration_client_id
    assert SHIPPED_SQL in usable_sql(bot, shop_source) and SHIPPED_SQL not in usable_sql(user, shop_source)
    assert client.get(FEEDBACK).status_code == 403  # a client never reviews (admin_tools)


def test_the_queue_costs_the_same_queries_whatever_its_length(shop_source, user, superuser, api_client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    reviewer = api_client_for(superuser)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert reviewer.get(FEEDBACK).status_code == 200
        return len(captured)

    give(api_client_for(user), answered(user, source=shop_source), rating="up")
    queries()  # the first request also warms per-process state
    one = queries()
    for _ in range(4):
        give(api_client_for(user), answered(user, source=shop_source), rating="down", corrected_sql=SHIPPED_SQL)
    assert queries() == one
