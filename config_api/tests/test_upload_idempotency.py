"""``POST backups/upload`` with ``Idempotency-Key`` (contract §6): a retried upload of the same archive is
replayed even though its multipart boundary differs, another archive under the same key is 422, and a body
over the general limit is not refused with 413 just because it carries a key."""

import io
import secrets
import uuid

import pytest
from django.test.client import encode_multipart

from config_api.models import Backup
from majed_vanna.audit import audit_record

UPLOAD = "/api/v1/backups/upload"


def archive_file(content: bytes, name: str = "backup.zip"):
    handle = io.BytesIO(content)
    handle.name = name
    return handle


def post_upload(client, content: bytes, key: str, *, boundary: str):
    return client.post(
        UPLOAD,
        data=encode_multipart(boundary, {"file": archive_file(content)}),
        content_type=f"multipart/form-data; boundary={boundary}",
        HTTP_IDEMPOTENCY_KEY=key,
    )


@pytest.fixture
def small_limits(settings):
    """Lower the general body limit (and Django's in-memory limits) so a small archive is "over the limit"."""
    settings.MAX_REQUEST_BODY_BYTES = settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024  # larger files are spooled to disk
    return settings


@pytest.fixture
def big_archive(admin, admin_client, django_capture_on_commit_callbacks, small_limits) -> bytes:
    """A real, restorable backup archive larger than the (lowered) general body limit."""
    audit_record(action="test.padding", actor=admin, details={"blob": secrets.token_urlsafe(160 * 1024)})
    with django_capture_on_commit_callbacks(execute=True):
        created = admin_client.post("/api/v1/backups")
    backup_id = created.json()["data"]["backup_id"]
    archive = b"".join(admin_client.get(f"/api/v1/backups/{backup_id}/download").streaming_content)
    assert len(archive) > small_limits.MAX_REQUEST_BODY_BYTES
    Backup.objects.filter(pk=backup_id).delete()
    return archive


def test_upload_over_the_general_limit_with_a_key_is_accepted_and_replayed(admin_client, big_archive):
    key = str(uuid.uuid4())
    first = post_upload(admin_client, big_archive, key, boundary="----client-one-7d3f")
    assert first.status_code == 201, first.content
    backup_id = first.json()["data"]["backup_id"]

    retry = post_upload(admin_client, big_archive, key, boundary="----another-library-91ac")
    assert retry.status_code == 201, retry.content
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json()["data"]["backup_id"] == backup_id
    assert list(Backup.objects.values_list("pk", flat=True)) == [uuid.UUID(backup_id)]


def test_another_archive_under_the_same_key_is_422(admin_client, big_archive):
    key = str(uuid.uuid4())
    assert post_upload(admin_client, big_archive, key, boundary="b-1").status_code == 201
    changed = big_archive[:-1] + bytes([big_archive[-1] ^ 1])
    response = post_upload(admin_client, changed, key, boundary="b-1")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert Backup.objects.count() == 1


def test_eleven_megabytes_with_a_key_reach_verification(admin_client, isolated_paths):
    """At the real limits: an 11 MB upload with a key is streamed and verified (here refused as no archive,
    422 on ``file``), not 413; the refusal releases the key, so a corrected retry may use it."""
    key = str(uuid.uuid4())
    response = post_upload(admin_client, b"\0" * (11 * 1024 * 1024), key, boundary="eleven")
    assert response.status_code == 422, response.content
    assert "file" in response.json()["error"]["details"]
    assert list((isolated_paths / "backups").glob("*")) == []
    again = post_upload(admin_client, b"\1" * 1024, key, boundary="eleven")
    assert response.json()["error"]["code"] == again.json()["error"]["code"] == "VALIDATION_ERROR"
