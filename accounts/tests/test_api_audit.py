"""GET audit-logs: filters, shape, read-only; what gets audited; the audit selectors and services."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import selectors, services
from accounts.models import AuditLog
from accounts.tests.factories import DEFAULT_PASSWORD
from accounts.tests.helpers import AUDIT_URL, USERS_URL, audit_rows, login

pytestmark = pytest.mark.django_db
ROW_FIELDS = {
    "id",
    "timestamp",
    "user_id",
    "username",
    "action",
    "resource",
    "resource_id",
    "details",
    "ip_address",
    "user_agent",
    "request_id",
    "success",
    "error_message",
}


def actions(response) -> list[str]:
    return [row["action"] for row in response.json()["data"]["logs"]]


def test_audit_log_list_and_filters(api_client, admin, user, api_client_for):
    login(
        api_client,
        user.username,
        DEFAULT_PASSWORD,
        headers={"HTTP_USER_AGENT": "pytest-agent", "HTTP_X_REQUEST_ID": "req-42"},
    )
    login(api_client, user.username, "wrong-password-here")
    client = api_client_for(admin)
    response = client.get(AUDIT_URL)
    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == {"logs", "total", "page", "per_page", "has_next", "total_is_estimate"}
    assert (data["total"], data["total_is_estimate"]) == (2, False)
    assert set(data["logs"][0]) == ROW_FIELDS
    assert actions(response) == ["auth.login_failed", "auth.login"]  # newest first
    login_row = data["logs"][1]
    assert login_row["user_agent"] == "pytest-agent" and login_row["request_id"] == "req-42"
    assert login_row["user_id"] == str(user.pk) and login_row["username"] == user.username
    assert actions(client.get(AUDIT_URL, {"success": "false"})) == ["auth.login_failed"]
    assert actions(client.get(AUDIT_URL, {"action": "auth.login"})) == ["auth.login"]
    assert len(actions(client.get(AUDIT_URL, {"user_id": str(user.pk)}))) == 2
    future = (timezone.now() + timedelta(hours=1)).isoformat()
    assert actions(client.get(AUDIT_URL, {"since": future})) == []
    assert len(actions(client.get(AUDIT_URL, {"until": future, "resource": "user"}))) == 2


@pytest.mark.parametrize(
    "params",
    [
        {"since": "yesterday"},
        {"until": "2026-13-45"},
        {"success": "perhaps"},
        # Valid ISO dates whose UTC time is outside what Python and the database hold (year 10000, year 0).
        {"since": "9999-12-31T23:59:59-23:59"},
        {"until": "0001-01-01T00:00:00+14:00"},
    ],
)
def test_bad_audit_filters_are_422(admin, api_client_for, params):
    response = api_client_for(admin).get(AUDIT_URL, params)
    assert response.status_code == 422
    assert set(response.json()["error"]["details"]) == set(params)


def test_audit_log_is_read_only(admin, api_client_for):
    client = api_client_for(admin)
    assert client.post(AUDIT_URL, {"action": "forged"}, format="json").status_code == 405
    assert client.delete(AUDIT_URL).status_code == 405


def test_permission_denial_on_an_admin_endpoint_is_audited(user, api_client_for):
    response = api_client_for(user).get(AUDIT_URL, HTTP_X_REQUEST_ID="req-denied")
    assert response.status_code == 403
    [row] = audit_rows("permission.denied")
    assert row.user_id == str(user.pk) and row.details["permission"] == "view_logs"
    assert row.request_id == "req-denied" and row.success is False


def test_user_changes_are_audited(admin, api_client_for):
    client = api_client_for(admin)
    created = client.post(
        USERS_URL, {"username": "audited@example.com", "password": "audited-password-1"}, format="json"
    )
    user_id = created.json()["data"]["user_id"]
    client.patch(f"/api/v1/users/{user_id}", {"role": "superuser"}, format="json")
    client.post(f"/api/v1/users/{user_id}/unlock")
    client.post(f"/api/v1/users/{user_id}/reset-password")
    client.delete(f"/api/v1/users/{user_id}")
    rows = AuditLog.objects.filter(resource_id=user_id).order_by("id")
    assert [r.action for r in rows] == [
        "user.create",
        "user.update",
        "user.unlock",
        "user.reset_password",
        "user.delete",
    ]
    assert all(r.user_id == str(admin.pk) and r.success for r in rows)
    assert rows[1].details == {"changes": {"role": {"old": "normal", "new": "superuser"}}}


def test_scrub_redacts_secret_looking_keys():
    row = services.audit_record(
        action="test.scrub", details={"password": "p", "nested": {"api_key": "k", "ok": 1}, "list": [{"token": "t"}]}
    )
    row.refresh_from_db()
    assert row.details == {
        "password": "[redacted]",
        "nested": {"api_key": "[redacted]", "ok": 1},
        "list": [{"token": "[redacted]"}],
    }


def test_audit_prune_deletes_old_rows_and_records_itself():
    old = services.audit_record(action="old.event")
    AuditLog.objects.filter(pk=old.pk).update(timestamp=timezone.now() - timedelta(days=40))
    recent = services.audit_record(action="recent.event")
    assert services.audit_prune(older_than_days=30) == 1
    remaining = set(AuditLog.objects.values_list("action", flat=True))
    assert remaining == {"recent.event", "audit.prune"}
    assert AuditLog.objects.filter(pk=recent.pk).exists()
    with pytest.raises(ValueError):
        services.audit_prune(older_than_days=0)


def test_audit_log_recent_for_other_apps():
    services.audit_record(action="a.one")
    services.audit_record(action="a.two")
    rows = selectors.audit_log_recent(since=timezone.now() - timedelta(minutes=1), limit=1)
    assert [row["action"] for row in rows] == ["a.two"]
