"""The core's audit recording: secrets scrubbed by exact key (not substring), events written through the
sink that accounts registers, refusal without a sink."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from accounts.models import AuditLog
from majed_vanna import audit
from majed_vanna.audit import REDACTED, audit_record, scrub


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "new_password",
        "current_password",
        "temporary_password",
        "client_secret",
        "api_key",
        "API-Key",
        "X-Api-Key",
        "secret",
        "token",
        "access_token",
        "refresh_token",
        "signature",
        "Authorization",
        "llm_api_key",
        "db_password",
        "webhook_secret",
        "github_token",
    ],
)
def test_secret_values_are_redacted(key):
    assert scrub({key: "s3cr3t-value"}) == {key: REDACTED}
    assert scrub({"nested": [{key: 1234}]}) == {"nested": [{key: REDACTED}]}


@pytest.mark.parametrize(
    "details",
    [
        {"must_change_password": True},
        {"must_change_password": False},
        {"changes": {"must_change_password": {"old": False, "new": True}}},
        {"rows": {"token_blacklist.outstandingtoken": 3, "token_blacklist.blacklistedtoken": 1}},
        {"tables": ["token_blacklist_outstandingtoken", "token_blacklist_blacklistedtoken"]},
        {"table": "token_blacklist_outstandingtoken"},
        {"refresh_revoked": 2, "password_changed_at": "2025-01-01T00:00:00Z", "tokens_valid_after": "x"},
        {"llm_key_status": "set", "secret_count": 3, "token_type": "refresh"},
        {"client_secret": None},
    ],
)
def test_flags_names_and_labels_are_not_redacted(details):
    assert scrub(details) == details


def test_a_secret_inside_an_old_new_pair_keeps_its_shape():
    assert scrub({"changes": {"password": {"old": "a", "new": "b"}}}) == {
        "changes": {"password": {"old": REDACTED, "new": REDACTED}}
    }


def test_audit_record_writes_a_scrubbed_row_through_the_accounts_sink(db):
    row = audit_record(
        action="test.scrub",
        details={"password": "p", "must_change_password": True, "rows": {"token_blacklist.outstandingtoken": 2}},
    )
    assert isinstance(row, AuditLog)
    row.refresh_from_db()
    assert row.details == {
        "password": REDACTED,
        "must_change_password": True,
        "rows": {"token_blacklist.outstandingtoken": 2},
    }


def test_audit_record_refuses_without_a_sink(db, monkeypatch):
    monkeypatch.setattr(audit, "_sink", None)
    with pytest.raises(ImproperlyConfigured):
        audit_record(action="test.nowhere")
    assert not AuditLog.objects.filter(action="test.nowhere").exists()


def test_the_sink_receives_the_event_with_actor_identity(db, admin, monkeypatch):
    seen = []
    monkeypatch.setattr(audit, "_sink", seen.append)
    audit_record(action="test.event", actor=admin, resource="user", resource_id=7, details={"token": "t"})
    (event,) = seen
    assert (event.action, event.user_id, event.username) == ("test.event", str(admin.pk), admin.username)
    assert (event.resource, event.resource_id, event.details) == ("user", "7", {"token": REDACTED})
