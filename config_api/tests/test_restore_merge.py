"""A restore merges the audit and token tables: rows missing since the backup come back, rows written since
stay, and rows changed since the backup are put back to their archived content, and counted
(``rows_reverted`` in ``restored_tables``), never left altered without a word."""

import pytest
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import AuditLog
from config_api.backups.restore import describe_outcome
from config_api.backups.services import backup_request, restore_run
from config_api.models import Backup, BackupStatus
from majed_vanna.audit import audit_record


@pytest.fixture
def backup(admin, django_capture_on_commit_callbacks) -> Backup:
    for number in range(3):
        audit_record(action=f"test.before.{number}", actor=admin, details={"n": number})
    with django_capture_on_commit_callbacks(execute=True):
        created = backup_request(actor=admin)
    created.refresh_from_db()
    assert created.status == BackupStatus.SUCCEEDED, created.error
    return created


@pytest.fixture
def audit_rows(backup):
    return list(AuditLog.objects.filter(action__startswith="test.before.").order_by("id"))


def test_rows_altered_since_the_backup_are_put_back_and_counted(backup, audit_rows):
    altered, deleted, untouched = audit_rows[:3]
    AuditLog.objects.filter(pk=altered.pk).update(
        action="tampered", details={"rewritten": True}, success=False, username="someone else"
    )
    AuditLog.objects.filter(pk=deleted.pk).delete()
    newer = AuditLog.objects.create(action="after.backup", username="later")

    restored = restore_run(backup_id=backup.pk, actor_name="test")

    back = AuditLog.objects.get(pk=altered.pk)
    assert (back.action, back.details, back.success, back.username) == (
        altered.action,
        altered.details,
        altered.success,
        altered.username,
    )
    assert back.timestamp == altered.timestamp
    assert AuditLog.objects.filter(pk=deleted.pk).exists()
    assert AuditLog.objects.filter(pk=newer.pk).exists()
    assert AuditLog.objects.get(pk=untouched.pk).action == untouched.action
    outcome = restored.restored_tables["accounts.auditlog"]
    assert outcome == {"action": "merged", "rows_added": 1, "rows_reverted": 1}
    assert describe_outcome("accounts.auditlog", outcome) == (
        "merged accounts.auditlog: 1 missing rows added, 1 changed rows put back as backed up, newer rows kept"
    )


def test_an_unchanged_merge_reverts_nothing(backup):
    restored = restore_run(backup_id=backup.pk, actor_name="test")
    for label, outcome in restored.restored_tables.items():
        if outcome["action"] == "merged":
            assert outcome["rows_reverted"] == 0, label
            assert outcome["rows_added"] == 0, label


def test_an_altered_token_row_is_put_back(admin, django_capture_on_commit_callbacks):
    RefreshToken.for_user(admin)
    with django_capture_on_commit_callbacks(execute=True):
        created = backup_request(actor=admin)
    token = OutstandingToken.objects.get()
    OutstandingToken.objects.filter(pk=token.pk).update(jti="0" * 32)

    restored = restore_run(backup_id=Backup.objects.get(pk=created.pk).pk, actor_name="test")

    assert OutstandingToken.objects.get(pk=token.pk).jti == token.jti
    assert restored.restored_tables["token_blacklist.outstandingtoken"]["rows_reverted"] == 1
