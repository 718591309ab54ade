"""Two uploads of the same archive at the same moment make one catalog row: the second answers with the first
(``created`` false), whichever order their checks and inserts run in."""

import io
import threading
from pathlib import Path

import pytest
from django.db import connection

from accounts.models import AuditLog
from config_api.backups import services
from config_api.backups.services import backup_request, backup_upload
from config_api.models import Backup, BackupKind, BackupStatus


def archive_file(content: bytes, name: str):
    handle = io.BytesIO(content)
    handle.name = name
    handle.chunks = lambda size: iter([content])
    return handle


@pytest.fixture
def archive(transactional_db, admin, django_capture_on_commit_callbacks) -> bytes:
    with django_capture_on_commit_callbacks(execute=True):
        made = backup_request(actor=admin)
    made.refresh_from_db()
    assert made.status == BackupStatus.SUCCEEDED, made.error
    content = Path(made.file_path).read_bytes()
    Backup.objects.filter(pk=made.pk).delete()  # only the bytes remain, as on another server
    Path(made.file_path).unlink()
    return content


def test_two_concurrent_uploads_of_one_archive_make_one_row(archive, admin, monkeypatch):
    """Both uploads check the catalog before either inserts (a barrier holds them), then insert in turn."""
    both_checked = threading.Barrier(2, timeout=20)
    first_done = threading.Event()
    real_find = services.backup_find_same_archive

    def find_then_wait(*, sha256):
        found = real_find(sha256=sha256)
        both_checked.wait()
        if threading.current_thread().name == "second":
            first_done.wait(timeout=20)
        return found

    monkeypatch.setattr(services, "backup_find_same_archive", find_then_wait)
    results, errors = {}, []

    def upload(name):
        try:
            results[name] = backup_upload(actor=admin, uploaded_file=archive_file(archive, f"{name}.zip"))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            if name == "first":
                first_done.set()
            connection.close()

    threads = [threading.Thread(target=upload, args=(name,), name=name) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    (first, first_created), (second, second_created) = results["first"], results["second"]
    assert first_created is True and second_created is False
    assert second.pk == first.pk
    assert Backup.objects.filter(kind=BackupKind.UPLOADED).count() == 1
    assert AuditLog.objects.filter(action="backup.upload").count() == 1
    directory = Path(first.file_path).parent
    assert [path.name for path in directory.iterdir() if path.suffix == ".zip"] == [Path(first.file_path).name]
    assert list(directory.glob("*.part")) == []


def test_an_upload_whose_catalog_row_lost_its_file_puts_the_file_back(archive, admin):
    first, created = backup_upload(actor=admin, uploaded_file=archive_file(archive, "a.zip"))
    assert created
    Path(first.file_path).unlink()
    again, created = backup_upload(actor=admin, uploaded_file=archive_file(archive, "b.zip"))
    assert (again.pk, created) == (first.pk, False)
    assert Path(again.file_path).read_bytes() == archive
