"""Damaged, tampered or incompatible archives are refused before anything changes; a restore that fails
half-way leaves the data exactly as it was."""

import json
import shutil
from pathlib import Path

import pytest
from django.db import IntegrityError

from accounts.models import AuditLog, User
from accounts.tests.factories import UserFactory
from config_api.backups.archive import ArchiveError, verify_archive
from config_api.backups.services import backup_request, restore_run
from config_api.models import Backup, BackupKind, BackupStatus
from config_api.services import config_update

from .helpers import file_sha256, read_archive, table_digests, write_archive_files


@pytest.fixture
def backup(admin, django_capture_on_commit_callbacks) -> Backup:
    UserFactory.create_batch(3)
    config_update(actor=admin, changes={"llm_model": "before"})
    with django_capture_on_commit_callbacks(execute=True):
        created = backup_request(actor=admin)
    created.refresh_from_db()
    assert created.status == BackupStatus.SUCCEEDED, created.error
    # the data moves on after the backup: a refused restore must leave *this* state
    UserFactory(username="newer@example.com")
    config_update(actor=admin, changes={"llm_model": "after"})
    return created


def catalogued_copy(source: Backup, path: Path) -> Backup:
    """A catalog row for ``path`` whose checksum matches the file (as an operator could have made)."""
    return Backup.objects.create(
        kind=BackupKind.UPLOADED,
        status=BackupStatus.SUCCEEDED,
        file_path=str(path),
        sha256=file_sha256(path),
        size_bytes=path.stat().st_size,
        manifest=source.manifest,
    )


def assert_refused(backup: Backup, admin, expected_message: str) -> None:
    before = table_digests()
    users = User.objects.count()
    with pytest.raises(Exception) as excinfo:
        restore_run(backup_id=backup.pk, actor_id=str(admin.pk), actor_name=admin.username)
    assert expected_message in str(excinfo.value)
    assert table_digests() == before
    assert User.objects.count() == users
    backup.refresh_from_db()
    assert backup.restore_status == BackupStatus.FAILED
    assert expected_message in backup.restore_error
    audit = AuditLog.objects.filter(action="backup.restore", resource_id=str(backup.pk)).get()
    assert audit.success is False and expected_message in audit.error_message


def test_flipped_byte_is_refused_by_the_catalog_checksum(backup, admin):
    path = Path(backup.file_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert_refused(backup, admin, "checksum does not match the catalog")


def test_truncated_archive_is_refused(backup, admin, tmp_path):
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(Path(backup.file_path).read_bytes()[:-200])
    assert_refused(catalogued_copy(backup, truncated), admin, "damaged or incomplete")


def test_tampered_row_with_recomputed_file_hash_is_refused_by_the_manifest(backup, admin, tmp_path):
    manifest, files = read_archive(Path(backup.file_path))
    name = "tables/accounts.user.ndjson"
    files[name] = files[name].replace(b'"role":"normal"', b'"role":"admin"', 1)
    tampered = tmp_path / "tampered.zip"
    write_archive_files(tampered, manifest, files, rehash=False)
    assert_refused(catalogued_copy(backup, tampered), admin, "does not match its checksum or row count")


def test_tampered_manifest_counts_are_refused(backup, admin, tmp_path):
    manifest, files = read_archive(Path(backup.file_path))
    manifest["tables"][0]["rows"] += 1
    tampered = tmp_path / "counts.zip"
    write_archive_files(tampered, manifest, files, rehash=False)
    assert_refused(catalogued_copy(backup, tampered), admin, "does not match its checksum or row count")


def test_payload_hash_must_match(backup, admin, tmp_path):
    manifest, files = read_archive(Path(backup.file_path))
    manifest["payload_sha256"] = "0" * 64
    tampered = tmp_path / "payload.zip"
    write_archive_files(tampered, manifest, files, rehash=False)
    assert_refused(catalogued_copy(backup, tampered), admin, "payload checksum does not match")


def test_backup_of_another_schema_version_is_refused_with_the_difference(backup, admin, tmp_path):
    manifest, files = read_archive(Path(backup.file_path))
    manifest["migrations"]["accounts"].append("0099_future_change")
    other = tmp_path / "future.zip"
    write_archive_files(other, manifest, files)
    with pytest.raises(ArchiveError) as excinfo:
        verify_archive(other)
    message = str(excinfo.value)
    assert "different schema version" in message and "accounts" in message and "0099_future_change" in message
    assert_refused(catalogued_copy(backup, other), admin, "0099_future_change")


def test_missing_archive_file_is_refused(backup, admin):
    Path(backup.file_path).unlink()
    assert_refused(backup, admin, "archive file is missing")


@pytest.mark.django_db(transaction=True)  # a real transaction, not a savepoint inside the test's
def test_restore_failing_half_way_changes_nothing(backup, admin, tmp_path):
    """Checksums are valid, but the last replaced table holds a duplicate primary key: the earlier
    tables were already deleted and re-inserted when the insert fails; the transaction undoes it all."""
    manifest, files = read_archive(Path(backup.file_path))
    replaced = [entry for entry in manifest["tables"] if entry["policy"] == "replace"]
    order = [entry["label"] for entry in replaced]
    # The last replaced table that holds rows: every table before it is rewritten when it fails.
    late = next(entry for entry in reversed(replaced) if files[entry["file"]].strip())
    assert order.index("accounts.user") < order.index(late["label"])
    first_line = files[late["file"]].splitlines(keepends=True)[0]
    files[late["file"]] += first_line
    crafted = tmp_path / "crafted.zip"
    write_archive_files(crafted, manifest, files)
    verify_archive(crafted)  # a well-formed archive as far as checksums go

    before = table_digests()
    audit_rows = AuditLog.objects.count()
    crafted_backup = catalogued_copy(backup, crafted)
    with pytest.raises(IntegrityError):
        restore_run(backup_id=crafted_backup.pk, actor_name="test")
    crafted_backup.refresh_from_db()
    assert crafted_backup.restore_status == BackupStatus.FAILED
    assert crafted_backup.restore_error == (
        "The data breaks a database constraint (a duplicate key or a reference to a missing row)."
    )
    assert table_digests() == before
    assert User.objects.filter(username="newer@example.com").exists()
    assert AuditLog.objects.count() == audit_rows + 1  # only the failed restore's own audit row


def test_upload_of_tampered_or_foreign_archives_is_refused(backup, admin_client, tmp_path):
    manifest, files = read_archive(Path(backup.file_path))
    cases = {}
    bad_table = dict(files)
    bad_table["tables/accounts.user.ndjson"] += b'{"id":"x"}\n'
    cases["tampered-table"] = (manifest, bad_table, False)
    foreign = json.loads(json.dumps(manifest))
    foreign["format"] = "something-else"
    cases["foreign-format"] = (foreign, files, True)
    future = json.loads(json.dumps(manifest))
    future["migrations"]["config_api"] = ["0001_initial", "0002_newer"]
    cases["other-schema"] = (future, files, True)
    missing_table = json.loads(json.dumps(manifest))
    missing_table["tables"] = [t for t in missing_table["tables"] if t["label"] != "accounts.user"]
    cases["missing-table"] = (missing_table, {k: v for k, v in files.items() if "accounts.user" not in k}, True)

    catalog = Backup.objects.count()
    for name, (case_manifest, case_files, rehash) in cases.items():
        path = tmp_path / f"{name}.zip"
        write_archive_files(path, json.loads(json.dumps(case_manifest)), dict(case_files), rehash=rehash)
        with path.open("rb") as handle:
            response = admin_client.post("/api/v1/backups/upload", {"file": handle}, format="multipart")
        assert response.status_code == 422, name
        assert response.json()["error"]["details"]["file"], name
    assert Backup.objects.count() == catalog
    assert sorted(p.name for p in Path(backup.file_path).parent.iterdir()) == [Path(backup.file_path).name]


def test_restore_command_refuses_a_damaged_file(backup, tmp_path):
    from django.core.management import CommandError, call_command

    damaged = tmp_path / "damaged.zip"
    shutil.copy(backup.file_path, damaged)
    damaged.write_bytes(damaged.read_bytes()[:100])
    before = table_digests()
    with pytest.raises(CommandError, match="Refused"):
        call_command("restore", str(damaged), "--yes")
    assert table_digests() == before
