"""Django admin: the feedback review queue (approve / reject actions through the audited services) and the
read-only tool-call log."""

import pytest
from django.test import Client

from accounts.models import AuditLog
from agent.models import Feedback
from agent.services.feedback import feedback_create
from agent.services.tool_calls import tool_call_record

from .conftest import SHIPPED, SHIPPED_SQL, answered

pytestmark = pytest.mark.django_db
QUEUE = "/admin/agent/feedback/"


def staff(admin) -> Client:
    client = Client()
    client.force_login(admin)
    return client


def pending(user, source, **fields) -> Feedback:
    return feedback_create(principal=user, message_id=answered(user, source=source).pk, **fields)[0]


def test_the_queue_lists_feedback_and_shows_it_read_only(shop_source, user, admin):
    feedback = pending(user, shop_source, rating="down", corrected_sql=SHIPPED_SQL)
    client = staff(admin)
    page = client.get(QUEUE + "?status__exact=pending").content.decode()
    assert SHIPPED in page and "Approve the selected feedback" in page
    detail = client.get(f"{QUEUE}{feedback.pk}/change/")
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()


def test_approve_and_reject_actions_go_through_the_services(shop_source, user, admin):
    first = pending(user, shop_source, rating="down", corrected_sql=SHIPPED_SQL)
    second = pending(user, shop_source, rating="up")
    client = staff(admin)
    response = client.post(QUEUE, {"action": "approve_selected", "_selected_action": [str(first.pk)]})
    assert response.status_code == 302
    response = client.post(QUEUE, {"action": "reject_selected", "_selected_action": [str(second.pk)]})
    assert response.status_code == 302
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.status, first.memory.scope, first.memory.status) == ("approved", "global", "approved")
    assert (second.status, second.memory.status) == ("rejected", "retired")
    assert AuditLog.objects.filter(action="feedback.approve", user_id=str(admin.pk)).count() == 1
    assert AuditLog.objects.filter(action="feedback.reject", user_id=str(admin.pk)).count() == 1


def test_an_action_that_cannot_apply_says_why_and_changes_nothing(shop_source, user, admin):
    feedback = pending(user, shop_source, rating="down")  # no SQL to approve
    response = staff(admin).post(
        QUEUE, {"action": "approve_selected", "_selected_action": [str(feedback.pk)]}, follow=True
    )
    assert "give the right SQL" in response.content.decode()
    feedback.refresh_from_db()
    assert feedback.status == "pending"


def test_tool_calls_are_a_read_only_log(user, admin):
    tool_call_record(
        principal=user,
        tool="run_sql",
        args={"sql": "SELECT 1"},
        duration_ms=3,
        success=False,
        error_code="SQL_TIMEOUT",
    )
    client = staff(admin)
    page = client.get("/admin/agent/toolcall/").content.decode()
    assert "SQL_TIMEOUT" in page and user.username in page
    assert client.get("/admin/agent/toolcall/add/").status_code == 403
