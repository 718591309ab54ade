"""``manage.py backup`` / ``restore`` are audited like the API (``backup.create``, ``backup.restore``, actor
``manage.py``); ``restore`` asks first and refuses without an answer."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import AuditLog, User
from accounts.tests.factories import UserFactory
from config_api.models import Backup


def run(*args, stdin: str | None = None) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **({"stdin": StringIO(stdin)} if stdin is not None else {}))
    return out.getvalue()


@pytest.fixture
def archive(admin) -> str:
    run("backup")
    return Backup.objects.get(kind="command").file_path


def test_backup_command_is_audited(admin):
    output = run("backup")
    backup = Backup.objects.get()
    assert f"Backup {backup.pk} succeeded" in output
    row = AuditLog.objects.get(action="backup.create")
    assert (row.username, row.user_id, row.resource_id) == ("manage.py", "", str(backup.pk))
    assert row.details == {"kind": "command"}
    assert backup.created_by_name == "manage.py"


def test_failed_backup_command_is_audited_and_recorded(admin, settings, isolated_paths):
    (isolated_paths / "a-file").write_text("x")
    settings.MV_BACKUP_DIR = str(isolated_paths / "a-file" / "backups")
    from config_api import runtime

    runtime.publish_stamp(None)
    with pytest.raises(CommandError, match="Backup failed: A backup file or directory could not be"):
        run("backup")
    backup = Backup.objects.get()
    assert backup.status == "failed" and "Error" not in backup.error
    assert AuditLog.objects.filter(action="backup.create", username="manage.py").exists()


def test_restore_command_is_audited_and_says_merged(archive):
    UserFactory(username="later@example.com")
    output = run("restore", archive, "--yes")
    assert "replaced accounts.user: 1 rows" in output
    assert "merged accounts.auditlog:" in output and "merged token_blacklist.outstandingtoken:" in output
    assert "auditlog: 0 rows" not in output
    row = AuditLog.objects.get(action="backup.restore")
    assert row.username == "manage.py" and row.success
    assert row.details["tables"]["accounts.user"] == {"action": "replaced", "rows": 1}


@pytest.mark.parametrize("answer", ["", "no\n", "y\n"])
def test_restore_command_without_a_yes_changes_nothing(archive, answer):
    UserFactory(username="later@example.com")
    with pytest.raises(CommandError, match="nothing changed"):
        run("restore", archive, stdin=answer)
    assert User.objects.filter(username="later@example.com").exists()
    assert not AuditLog.objects.filter(action="backup.restore").exists()


def test_restore_command_goes_on_when_told_yes(archive):
    UserFactory(username="later@example.com")
    output = run("restore", archive, stdin="yes\n")
    assert "Type 'yes' to continue" in output and "Restore succeeded" in output
    assert not User.objects.filter(username="later@example.com").exists()


def test_restore_command_refuses_a_file_that_is_not_an_archive(isolated_paths, db):
    damaged = isolated_paths / "damaged.zip"
    damaged.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    with pytest.raises(CommandError, match="Refused, nothing changed: The file is not a zip archive"):
        run("restore", str(damaged), "--yes")
