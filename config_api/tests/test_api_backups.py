"""Backups through the API with in-process (eager) tasks: create, list, download, restore, upload, delete."""

import hashlib
import io
from pathlib import Path

import pytest

from accounts.models import AuditLog, User
from accounts.tests.factories import UserFactory
from config_api import runtime
from config_api.backups.services import backup_request
from config_api.models import Backup, BackupStatus
from config_api.services import config_update
from config_api.tasks import MAX_RETRIES, backup_create_task
from majed_vanna.audit import audit_record
from majed_vanna.roles import Role

from .helpers import file_sha256, read_archive, table_digests

BACKUPS = "/api/v1/backups"


@pytest.fixture
def sample_data(admin):
    """Rows in every kind of table: users, configuration (+ history), audit."""
    users = [UserFactory(role=role) for role in (Role.NORMAL, Role.SUPERUSER, Role.NORMAL)]
    config_update(actor=admin, changes={"rate_limit_max_requests": 500, "llm_model": "m-1"})
    audit_record(action="test.seed", actor=admin, resource="user", resource_id=users[0].pk, details={"n": 1})
    return users


@pytest.fixture
def make_backup(admin_client, django_capture_on_commit_callbacks):
    def make() -> Backup:
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(BACKUPS)
        assert response.status_code == 202, response.content
        data = response.json()["data"]
        assert data["status"] == "pending"
        return Backup.objects.get(pk=data["backup_id"])

    return make


def restore(admin_client, backup_id, captured) -> dict:
    with captured(execute=True):
        response = admin_client.post(f"{BACKUPS}/{backup_id}/restore", {"confirm": True}, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["data"] == {"backup_id": str(backup_id), "restore_status": "pending"}
    return admin_client.get(f"{BACKUPS}/{backup_id}").json()["data"]


def test_backup_is_created_listed_and_described(sample_data, admin_client, make_backup):
    backup = make_backup()
    data = admin_client.get(f"{BACKUPS}/{backup.pk}").json()["data"]
    assert data["status"] == "succeeded"
    assert data["error"] == ""
    assert data["size_bytes"] == Path(backup.file_path).stat().st_size > 0
    assert data["sha256"] == file_sha256(backup.file_path)
    assert data["created_at"] and data["finished_at"]
    assert data["restore_status"] is None
    assert data["row_counts"]["accounts.user"] == User.objects.count() == 4
    assert data["row_counts"]["config_api.runtimeconfiguration"] == 1
    assert "config_api.backup" not in data["row_counts"]  # the catalog is not part of a backup

    manifest, files = read_archive(Path(backup.file_path))
    assert manifest["app_version"] == "0.1.0"
    assert "0001_initial" in manifest["migrations"]["accounts"]
    payload = hashlib.sha256(b"".join(files[entry["file"]] for entry in manifest["tables"])).hexdigest()
    assert manifest["payload_sha256"] == payload

    listing = admin_client.get(BACKUPS).json()["data"]
    assert listing["total"] == 1 and listing["has_next"] is False
    assert listing["backups"][0]["backup_id"] == str(backup.pk)
    assert AuditLog.objects.filter(action="backup.create", resource_id=str(backup.pk)).exists()


def test_download_streams_the_archive_bytes(sample_data, admin_client, make_backup):
    backup = make_backup()
    response = admin_client.get(f"{BACKUPS}/{backup.pk}/download")
    assert response.status_code == 200
    assert response.streaming
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == backup.sha256
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment;")
    assert backup.file_name in response["Content-Disposition"]


def test_backup_then_change_then_restore_gives_back_every_table(
    sample_data, admin, admin_client, make_backup, django_capture_on_commit_callbacks
):
    before = table_digests()
    audit_before = set(AuditLog.objects.values_list("pk", flat=True))
    backup = make_backup()

    # change everything: new, changed and deleted users, a new configuration, new audit rows
    UserFactory(username="late@example.com")
    User.objects.filter(pk=sample_data[0].pk).update(role=Role.ADMIN)
    User.objects.filter(pk=sample_data[1].pk).delete()
    config_update(actor=admin, changes={"rate_limit_max_requests": 7, "llm_provider": "openai"})
    assert runtime.runtime_config_values()["rate_limit_max_requests"] == 7
    assert table_digests() != before

    data = restore(admin_client, backup.pk, django_capture_on_commit_callbacks)
    assert data["restore_status"] == "succeeded", data["restore_error"]
    assert data["restored_at"]
    assert table_digests() == before
    # audit is append-only: the backup's rows are there, the newer ones were kept, the restore is audited
    audit_after = set(AuditLog.objects.values_list("pk", flat=True))
    assert audit_before < audit_after
    assert AuditLog.objects.filter(action="config.update", details__new__rate_limit_max_requests=7).exists()
    restored = AuditLog.objects.get(action="backup.restore", resource_id=str(backup.pk))
    assert restored.success and restored.username == admin.username
    # the runtime configuration in use is the restored one
    assert runtime.runtime_config_values()["rate_limit_max_requests"] == 500
    assert admin_client.get("/api/v1/config").json()["data"]["rate_limit_max_requests"] == 500
    # the catalog survived
    assert Backup.objects.filter(pk=backup.pk).exists()


def test_restore_needs_confirm_true(sample_data, admin_client, make_backup):
    backup = make_backup()
    for body in ({}, {"confirm": False}, {"confirm": "maybe"}):
        response = admin_client.post(f"{BACKUPS}/{backup.pk}/restore", body, format="json")
        assert response.status_code == 422
        assert "confirm" in response.json()["error"]["details"]
    backup.refresh_from_db()
    assert backup.restore_status == ""


def test_unknown_backup_is_404(admin_client):
    response = admin_client.get(f"{BACKUPS}/6f1c2a56-6a39-4a7f-9a59-1b1f0d1f0c11")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "RESOURCE_NOT_FOUND"


def test_delete_removes_row_and_file_and_is_audited(
    sample_data, admin_client, make_backup, django_capture_on_commit_callbacks
):
    backup = make_backup()
    path = Path(backup.file_path)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.delete(f"{BACKUPS}/{backup.pk}")
    assert response.status_code == 200
    assert response.json()["data"] is None
    assert not Backup.objects.filter(pk=backup.pk).exists()
    assert not path.exists()
    assert AuditLog.objects.filter(action="backup.delete", resource_id=str(backup.pk)).exists()


def test_upload_of_a_downloaded_backup_is_accepted_and_restorable(
    sample_data, admin_client, make_backup, django_capture_on_commit_callbacks
):
    original = make_backup()
    archive = b"".join(admin_client.get(f"{BACKUPS}/{original.pk}/download").streaming_content)
    assert admin_client.delete(f"{BACKUPS}/{original.pk}").status_code == 200  # e.g. moved to another server
    before = table_digests()
    UserFactory(username="after@example.com")

    upload = io.BytesIO(archive)
    upload.name = "mine.zip"
    response = admin_client.post(f"{BACKUPS}/upload", {"file": upload}, format="multipart")
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["kind"] == "uploaded" and data["status"] == "succeeded"
    assert data["sha256"] == hashlib.sha256(archive).hexdigest()
    assert data["uploaded_name"] == "mine.zip"
    assert AuditLog.objects.filter(action="backup.upload", resource_id=data["backup_id"]).exists()

    result = restore(admin_client, data["backup_id"], django_capture_on_commit_callbacks)
    assert result["restore_status"] == "succeeded", result["restore_error"]
    assert table_digests() == before


@pytest.mark.parametrize(
    "content",
    [b"", b"not a zip at all", b"PK\x03\x04" + b"\x00" * 64],
    ids=["empty", "text", "broken-zip"],
)
def test_upload_of_garbage_is_422_and_leaves_nothing(content, admin_client, isolated_paths):
    upload = io.BytesIO(content)
    upload.name = "x.zip"
    response = admin_client.post(f"{BACKUPS}/upload", {"file": upload}, format="multipart")
    assert response.status_code == 422
    assert "file" in response.json()["error"]["details"]
    assert not Backup.objects.exists()
    assert list((isolated_paths / "backups").glob("*")) == []


def test_upload_without_file_is_422(admin_client):
    response = admin_client.post(f"{BACKUPS}/upload", {}, format="multipart")
    assert response.status_code == 422
    assert "file" in response.json()["error"]["details"]


def test_upload_limit_is_raised_for_the_upload_path_only(settings):
    from majed_vanna.middleware import BodySizeLimitMiddleware

    assert BodySizeLimitMiddleware.limit_for("/api/v1/backups/upload") == settings.MV_BACKUP_UPLOAD_MAX_BYTES
    assert BodySizeLimitMiddleware.limit_for("/api/v1/backups") == settings.MAX_REQUEST_BODY_BYTES


def test_failed_backup_is_retried_then_recorded(sample_data, admin_client, settings, isolated_paths):
    """A transient cause (here: the backup directory cannot be created) is retried with backoff, and the
    final failure is on the row and in the API."""
    blocker = isolated_paths / "not-a-dir"
    blocker.write_text("x")
    settings.MV_BACKUP_DIR = str(blocker / "backups")
    runtime.publish_stamp(None)

    backup = backup_request(actor=None)
    backup_create_task.apply(args=[str(backup.pk)])
    backup.refresh_from_db()
    assert backup.status == BackupStatus.FAILED
    assert backup.attempts == MAX_RETRIES + 1
    assert backup.error == "A backup file or directory could not be read or written: not a directory."
    data = admin_client.get(f"{BACKUPS}/{backup.pk}").json()["data"]
    assert data["status"] == "failed" and data["error"] == backup.error


def test_restore_of_an_unfinished_backup_is_409(admin_client):
    backup = Backup.objects.create(status=BackupStatus.RUNNING)
    response = admin_client.post(f"{BACKUPS}/{backup.pk}/restore", {"confirm": True}, format="json")
    assert response.status_code == 409
    response = admin_client.delete(f"{BACKUPS}/{backup.pk}")
    assert response.status_code == 409


def test_scheduled_task_writes_a_backup(sample_data, django_capture_on_commit_callbacks):
    from config_api.tasks import backup_scheduled_task

    with django_capture_on_commit_callbacks(execute=True):
        backup_id = backup_scheduled_task.apply().get()
    backup = Backup.objects.get(pk=backup_id)
    assert backup.kind == "scheduled" and backup.status == BackupStatus.SUCCEEDED
    assert AuditLog.objects.get(action="backup.create", resource_id=backup_id).username == "system"


def test_backup_and_restore_commands(sample_data, capsys):
    from django.core.management import call_command

    call_command("backup")
    out = capsys.readouterr().out
    backup = Backup.objects.get(kind="command")
    assert "accounts.user: 4 rows" in out and backup.sha256 in out and backup.file_path in out
    before = table_digests()
    UserFactory(username="later@example.com")
    call_command("restore", backup.file_path, "--yes")
    out = capsys.readouterr().out
    assert "replaced accounts.user: 4 rows" in out and "Restore succeeded" in out
    assert (
        "merged accounts.auditlog: 0 missing rows added, 0 changed rows put back as backed up, newer rows kept" in out
    )
    assert table_digests() == before


def test_upload_over_the_general_10_mb_limit_reaches_verification(admin_client, isolated_paths):
    """The upload path has its own limit (MV_BACKUP_UPLOAD_MAX_BYTES): an 11 MB body is not a 413, it is
    streamed to disk and verified (here refused: it is not an archive)."""
    upload = io.BytesIO(b"\0" * (11 * 1024 * 1024))
    upload.name = "big.zip"
    response = admin_client.post(f"{BACKUPS}/upload", {"file": upload}, format="multipart")
    assert response.status_code == 422
    assert "file" in response.json()["error"]["details"]
    assert list((isolated_paths / "backups").glob("*")) == []
