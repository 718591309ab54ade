"""Backup services as people see them: messages without Python exception names, one catalog row per
archive (a second upload of the same bytes answers with the first), the uploaded file name kept, and a
restore that says which tables it replaced and which it merged."""

import io
import re
from pathlib import Path

import pytest
from django.db import IntegrityError, OperationalError

from accounts.models import AuditLog
from config_api.backups.services import describe_error
from config_api.models import Backup

from .test_backup_integrity import backup  # noqa: F401 - fixture: a real backup of this schema

BACKUPS = "/api/v1/backups"
PYTHON_NAMES = re.compile(r"\b\w*(Error|Exception|BadZipFile)\b|\(error\)|Errno|Traceback")


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def upload(client, content: bytes, name: str = "x.zip"):
    handle = io.BytesIO(content)
    handle.name = name
    return client.post(f"{BACKUPS}/upload", {"file": handle}, format="multipart")


def damaged_in_the_middle(path: Path) -> bytes:
    """The archive with bytes flipped inside its compressed data (the zip directory stays readable)."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 3
    for offset in range(middle, middle + 64):
        data[offset] ^= 0xFF
    return bytes(data)


@pytest.mark.parametrize("kind", ["text", "truncated-zip", "damaged-deflate"])
def test_upload_refusals_name_no_python_exception(kind, backup, admin_client):  # noqa: F811
    content = {
        "text": b"not a zip at all",
        "truncated-zip": Path(backup.file_path).read_bytes()[:200],
        "damaged-deflate": damaged_in_the_middle(Path(backup.file_path)),
    }[kind]
    response = upload(admin_client, content)
    assert response.status_code == 422
    [message] = response.json()["error"]["details"]["file"]
    assert "damaged" in message or "not a zip" in message or "checksum" in message, message
    assert not PYTHON_NAMES.search(message), message


def test_a_damaged_member_name_is_a_damaged_archive_not_a_500(backup, admin_client):  # noqa: F811
    """A flipped byte in a member's local header name made zipfile raise UnicodeDecodeError (a 500); where the
    damage of ``damaged_in_the_middle`` lands depends on the archive's layout, so this aims at a header."""
    import zipfile

    data = bytearray(Path(backup.file_path).read_bytes())
    with zipfile.ZipFile(Path(backup.file_path)) as zf:
        member = next(info for info in zf.infolist() if info.filename.startswith("tables/"))
    data[member.header_offset + 7] |= 0x08  # general purpose flag bit 11: the name is UTF-8
    name_at = member.header_offset + 30  # the local header's fixed part, then the name
    data[name_at : name_at + 4] = b"\xff\xff\xff\xff"  # not UTF-8
    response = upload(admin_client, bytes(data))
    assert response.status_code == 422, response.content
    [message] = response.json()["error"]["details"]["file"]
    assert "damaged" in message and not PYTHON_NAMES.search(message), message


@pytest.mark.parametrize(
    "exc",
    [
        IntegrityError("UNIQUE constraint failed: accounts_user.id"),
        OperationalError("database is locked"),
        NotADirectoryError(20, "Not a directory"),
        ValueError("something internal"),
        KeyError("x"),
    ],
)
def test_describe_error_never_names_the_exception(exc):
    message = describe_error(exc)
    assert message and not PYTHON_NAMES.search(message), message
    assert type(exc).__name__ not in message
    assert "accounts_user" not in message and "internal" not in message


def test_second_upload_of_the_same_archive_answers_with_the_first(backup, admin_client):  # noqa: F811
    content = Path(backup.file_path).read_bytes()
    Backup.objects.filter(pk=backup.pk).delete()  # only the file remains, as on another server
    first = upload(admin_client, content, name="nightly-2026-11-30.zip")
    assert first.status_code == 201, first.content
    first_data = first.json()["data"]
    assert first_data["uploaded_name"] == "nightly-2026-11-30.zip"

    again = upload(admin_client, content, name="copy-of-nightly.zip")
    assert again.status_code == 200, again.content
    body = again.json()
    assert body["message"] == "This archive is already in the catalog"
    assert body["data"]["backup_id"] == first_data["backup_id"]
    assert body["data"]["uploaded_name"] == "nightly-2026-11-30.zip"
    assert Backup.objects.count() == 1
    assert AuditLog.objects.filter(action="backup.upload").count() == 1
    files = sorted(p.name for p in Path(backup.file_path).parent.iterdir())
    assert len(files) == 2  # the original file and the one upload, no second copy


def test_an_archive_made_here_is_not_stored_again_by_upload(backup, admin_client):  # noqa: F811
    response = upload(admin_client, Path(backup.file_path).read_bytes())
    assert response.status_code == 200
    assert response.json()["data"]["backup_id"] == str(backup.pk)
    assert Backup.objects.count() == 1


def test_download_of_an_upload_keeps_its_file_name(backup, admin_client):  # noqa: F811
    content = Path(backup.file_path).read_bytes()
    Backup.objects.filter(pk=backup.pk).delete()
    backup_id = upload(admin_client, content, name="from-production.zip").json()["data"]["backup_id"]
    response = admin_client.get(f"{BACKUPS}/{backup_id}/download")
    assert 'filename="from-production.zip"' in response["Content-Disposition"]


def test_restore_result_says_merged_for_audit_and_token_tables(backup, admin_client, on_commit):  # noqa: F811
    with on_commit(execute=True):
        response = admin_client.post(f"{BACKUPS}/{backup.pk}/restore", {"confirm": True}, format="json")
    assert response.status_code == 202
    data = admin_client.get(f"{BACKUPS}/{backup.pk}").json()["data"]
    assert data["restore_status"] == "succeeded", data["restore_error"]
    tables = data["restored_tables"]
    assert tables["accounts.user"] == {"action": "replaced", "rows": 4}  # the admin and three users
    for label in ("accounts.auditlog", "token_blacklist.outstandingtoken", "token_blacklist.blacklistedtoken"):
        assert tables[label]["action"] == "merged", label
        assert "rows" not in tables[label]


def test_the_200_of_a_repeated_upload_is_documented(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    responses = schema["paths"]["/api/v1/backups/upload"]["post"]["responses"]
    assert {"200", "201"} <= set(responses)
    assert "already in the catalog" in responses["200"]["description"]
    assert "uploaded_name" in schema["components"]["schemas"]["BackupOutput"]["properties"]
