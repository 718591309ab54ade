"""Hostile archives (uploaded by anyone holding ``backup_restore``, or dropped next to the catalog) are refused
with 422 and nothing kept: never a 500, never memory or time proportional to what they claim to expand to."""

import json
import time
import zipfile
from pathlib import Path

import pytest

from config_api.backups import archive
from config_api.models import Backup

from .helpers import read_archive, write_archive_files
from .test_backup_integrity import backup  # noqa: F401 - fixture: a real backup of this schema


def _upload(client, path: Path):
    with path.open("rb") as handle:
        return client.post("/api/v1/backups/upload", {"file": handle}, format="multipart")


def _assert_refused(client, path: Path, message: str) -> None:
    catalog = Backup.objects.count()
    response = _upload(client, path)
    assert response.status_code == 422, response.content[:500]
    details = response.json()["error"]["details"]["file"]
    assert any(message in text for text in details), details
    assert Backup.objects.count() == catalog
    assert list((path.parent / "backups").glob(".upload-*")) == []  # no temporary file left


def _copy(manifest):
    return json.loads(json.dumps(manifest))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda m: m["tables"][0].update(label=["accounts", "user"]), "table list is malformed"),
        (lambda m: m["tables"][0].update(file=7), "table list is malformed"),
        (lambda m: m["tables"][0].update(rows="many"), "table list is malformed"),
        (lambda m: m["migrations"].update(accounts=3), "migration state"),
        (lambda m: m.update(migrations={"accounts": [1, 2]}), "migration state"),
        (lambda m: m["tables"].append(dict(m["tables"][0])), "more than once"),
        (lambda m: m["tables"].append({**m["tables"][0], "label": "other.model"}), "do not match"),
    ],
    ids=["label-list", "file-int", "rows-str", "migrations-int", "migration-names-int", "duplicate", "foreign-table"],
)
def test_malformed_manifest_is_422(backup, admin_client, tmp_path, mutate, message):  # noqa: F811
    manifest, files = read_archive(Path(backup.file_path))
    manifest = _copy(manifest)
    mutate(manifest)
    path = tmp_path / "crafted.zip"
    write_archive_files(path, manifest, files, rehash=False)
    _assert_refused(admin_client, path, message)


def _patch_headers(path: Path, *, local_offset: int, central_offset: int, value: bytes) -> None:
    """Overwrite a 2-byte field in every local and central header (flags: 6/8, method: 8/10)."""
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", local_offset), (b"PK\x01\x02", central_offset)):
        start = data.find(signature)
        while start != -1:
            data[start + offset : start + offset + 2] = value
            start = data.find(signature, start + 4)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"local_offset": 6, "central_offset": 8, "value": b"\x01\x00"}, "encrypted"),
        ({"local_offset": 8, "central_offset": 10, "value": b"\x63\x00"}, "compression"),
    ],
    ids=["encrypted", "unknown-compression"],
)
def test_encrypted_or_oddly_compressed_entries_are_422(backup, admin_client, tmp_path, fields, message):  # noqa: F811
    manifest, files = read_archive(Path(backup.file_path))
    path = tmp_path / "odd.zip"
    write_archive_files(path, manifest, files)
    _patch_headers(path, **fields)
    _assert_refused(admin_client, path, message)


def test_zip_bomb_is_refused_before_it_is_expanded(backup, admin_client, tmp_path):  # noqa: F811
    """300 MB of one line, deflated to a few hundred KB: refused from the sizes the archive declares."""
    manifest, files = read_archive(Path(backup.file_path))
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            if name != "tables/accounts.user.ndjson":
                zf.writestr(name, data)
        with zf.open("tables/accounts.user.ndjson", "w") as handle:
            block = b"0" * (1024 * 1024)
            for _ in range(300):
                handle.write(block)
        zf.writestr("manifest.json", json.dumps(manifest))
    assert path.stat().st_size < 2 * 1024 * 1024
    started = time.monotonic()
    _assert_refused(admin_client, path, "expands to")
    assert time.monotonic() - started < 5


def test_manifest_bomb_is_refused_unread(backup, admin_client, tmp_path, monkeypatch):  # noqa: F811
    manifest, files = read_archive(Path(backup.file_path))
    monkeypatch.setattr(archive, "MANIFEST_MAX_BYTES", 4096)
    path = tmp_path / "fat-manifest.zip"
    manifest = _copy(manifest)
    manifest["padding"] = " " * 8192
    write_archive_files(path, manifest, files, rehash=False)
    _assert_refused(admin_client, path, "manifest is larger than")


def test_overlong_row_line_is_refused_without_reading_it_whole(backup, admin_client, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setattr(archive, "LINE_MAX_BYTES", 4096)
    manifest, files = read_archive(Path(backup.file_path))
    files = dict(files)
    files["tables/accounts.user.ndjson"] += b'{"x":"' + b"y" * 10_000 + b'"}\n'
    path = tmp_path / "long-line.zip"
    write_archive_files(path, _copy(manifest), files)
    _assert_refused(admin_client, path, "longer than")


def test_upload_failing_after_the_move_leaves_no_file_behind(backup, admin, tmp_path, monkeypatch):  # noqa: F811
    """The catalog row is rolled back; the archive moved into backup_path must go with it."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from config_api.backups import services

    def broken_audit(**kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(services, "audit_record", broken_audit)
    Backup.objects.filter(pk=backup.pk).update(sha256="")  # not in the catalog yet, so the upload is stored
    directory = Path(backup.file_path).parent
    before = sorted(p.name for p in directory.iterdir())
    upload = SimpleUploadedFile("mine.zip", Path(backup.file_path).read_bytes())
    with pytest.raises(RuntimeError):
        services.backup_upload(actor=admin, uploaded_file=upload)
    assert Backup.objects.count() == 1
    assert sorted(p.name for p in directory.iterdir()) == before
