"""The backup archive: a zip holding ``manifest.json`` and one NDJSON file per application table.

Portable between SQLite and PostgreSQL: each line is one row, ``{column attname: value}``, with values in
plain JSON (datetimes as full ISO 8601, decimals and UUIDs as strings, durations in Django's duration
format, binary as base64). Rows are streamed with ``iterator(chunk_size=...)`` straight into the zip, so
memory stays flat however large a table is.

Manifest: format and version, app version, Django version, database vendor, creation time, migration
state of the backed-up apps, the tables in write order with row count and sha256 each, and
``payload_sha256`` (sha256 of every table file's bytes, concatenated in manifest order).
"""

import base64
import datetime
import decimal
import hashlib
import json
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.duration import duration_string

from .registry import Table, application_tables, migration_state

FORMAT = "majed-vanna-backup"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
CHUNK_ROWS = 2000
HASH_BLOCK = 1024 * 1024

Progress = Callable[[str, int], None] | None


class ArchiveError(Exception):
    """The file is not a usable backup of this installation; the message says why (safe to show)."""


def encode_value(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return duration_string(value)
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    return value


def _row_lines(table: Table) -> Iterator[bytes]:
    fields = table.model._meta.concrete_fields
    names = [field.attname for field in fields]
    queryset = table.model._base_manager.order_by("pk").values_list(*names)
    for values in queryset.iterator(chunk_size=CHUNK_ROWS):
        row = {name: encode_value(value) for name, value in zip(names, values, strict=True)}
        yield json.dumps(row, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def write_archive(path: Path, *, progress: Progress = None) -> dict[str, Any]:
    """Write every application table and the manifest to ``path``; returns the manifest.

    Runs in one read transaction so the tables form one consistent snapshot (REPEATABLE READ on
    PostgreSQL).
    """
    from django.db import transaction

    tables = application_tables()
    payload = hashlib.sha256()
    entries = []
    outermost = not connection.in_atomic_block
    with transaction.atomic(), zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        for table in tables:
            digest, rows = hashlib.sha256(), 0
            with zf.open(table.file_name, "w", force_zip64=True) as handle:
                for line in _row_lines(table):
                    handle.write(line)
                    digest.update(line)
                    payload.update(line)
                    rows += 1
            entries.append(
                {
                    "label": table.label,
                    "db_table": table.model._meta.db_table,
                    "file": table.file_name,
                    "policy": table.policy,
                    "rows": rows,
                    "sha256": digest.hexdigest(),
                }
            )
            if progress:
                progress(table.label, rows)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "app_version": settings.VERSION,
            "django_version": django.get_version(),
            "database_vendor": connection.vendor,
            "created_at": timezone.now().isoformat(),
            "migrations": migration_state({t.model._meta.app_label for t in tables}),
            "tables": entries,
            "payload_sha256": payload.hexdigest(),
        }
        zf.writestr(MANIFEST_NAME, json.dumps(manifest, indent=2, sort_keys=True))
    return manifest


def read_manifest(zf: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest = json.loads(zf.read(MANIFEST_NAME))
    except KeyError:
        raise ArchiveError("The archive has no manifest.json.")
    except (ValueError, zipfile.BadZipFile, zlib.error, EOFError):
        raise ArchiveError("The manifest is not valid JSON.")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError("This is not a Majed Vanna backup archive.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ArchiveError(f"Unsupported backup format version {manifest.get('format_version')!r}.")
    tables = manifest.get("tables")
    if not isinstance(tables, list) or not all(
        isinstance(t, dict) and {"label", "file", "rows", "sha256"} <= t.keys() for t in tables
    ):
        raise ArchiveError("The manifest's table list is malformed.")
    if not isinstance(manifest.get("migrations"), dict) or not isinstance(manifest.get("payload_sha256"), str):
        raise ArchiveError("The manifest lacks the migration state or the payload checksum.")
    return manifest


def _check_compatible(manifest: dict[str, Any]) -> None:
    """The backup's schema must be this installation's: same tables, same applied migrations."""
    tables = application_tables()
    current = migration_state({t.model._meta.app_label for t in tables} | set(manifest["migrations"]))
    differences = []
    for app_label in sorted(current):
        theirs, ours = set(manifest["migrations"].get(app_label, [])), set(current[app_label])
        if theirs != ours:
            parts = []
            if ours - theirs:
                parts.append("missing in the backup: " + ", ".join(sorted(ours - theirs)))
            if theirs - ours:
                parts.append("not applied here: " + ", ".join(sorted(theirs - ours)))
            differences.append(f"{app_label} ({'; '.join(parts)})")
    if differences:
        raise ArchiveError(
            "The backup was taken from a different schema version; migrations differ for "
            + "; ".join(differences)
            + "."
        )
    expected, present = {t.label for t in tables}, {t["label"] for t in manifest["tables"]}
    if expected != present:
        raise ArchiveError(
            "The backup's tables do not match this installation's: " + ", ".join(sorted(expected ^ present)) + "."
        )


def verify_archive(path: Path, *, expected_sha256: str | None = None) -> dict[str, Any]:
    """Check the file checksum, the archive, every table's hash and row count, the payload hash and the
    schema compatibility, before anything is changed. Returns the manifest; raises ``ArchiveError``."""
    if expected_sha256 is not None and sha256_file(path) != expected_sha256:
        raise ArchiveError("The archive's checksum does not match the catalog; the file is damaged or was changed.")
    try:
        with zipfile.ZipFile(path) as zf:
            manifest = read_manifest(zf)
            payload = hashlib.sha256()
            for entry in manifest["tables"]:
                digest, rows = hashlib.sha256(), 0
                with zf.open(entry["file"]) as handle:
                    for line in handle:
                        digest.update(line)
                        payload.update(line)
                        rows += 1
                if digest.hexdigest() != entry["sha256"] or rows != entry["rows"]:
                    raise ArchiveError(f"Table {entry['label']} does not match its checksum or row count.")
            if payload.hexdigest() != manifest["payload_sha256"]:
                raise ArchiveError("The payload checksum does not match the manifest.")
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, OSError) as exc:
        raise ArchiveError(f"The archive is damaged or incomplete ({type(exc).__name__}).")
    _check_compatible(manifest)
    return manifest


def iter_rows(zf: zipfile.ZipFile, entry: dict[str, Any]) -> Iterator[dict[str, Any]]:
    with zf.open(entry["file"]) as handle:
        for line in handle:
            yield json.loads(line)
