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
# Limits on what an archive may make the server read or expand (uploads are verified in the request).
MANIFEST_MAX_BYTES = 16 * 1024 * 1024
LINE_MAX_BYTES = 64 * 1024 * 1024  # one row
MAX_EXPANSION_RATIO = 200  # NDJSON deflates 5-20x; a zip bomb reaches ~1000x
EXPANSION_FLOOR_BYTES = 256 * 1024 * 1024  # small archives may expand this far whatever their ratio
COMPRESSION_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})  # what write_archive uses

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


def _entry(zf: zipfile.ZipFile, name: str) -> zipfile.ZipInfo:
    """The member ``name``, if it is one this code can read safely (plain or deflated, not encrypted)."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise ArchiveError(f"The archive has no {name[:200]}.")
    if info.flag_bits & 0x1:
        raise ArchiveError(f"{name[:200]} is encrypted.")
    if info.compress_type not in COMPRESSION_METHODS:
        raise ArchiveError(f"{name[:200]} uses an unsupported compression method.")
    return info


def _lines(zf: zipfile.ZipFile, name: str) -> Iterator[bytes]:
    """The member's lines, none longer than ``LINE_MAX_BYTES`` (never read whole into memory)."""
    with zf.open(_entry(zf, name)) as handle:
        while line := handle.readline(LINE_MAX_BYTES + 1):
            if len(line) > LINE_MAX_BYTES:
                raise ArchiveError(f"{name[:200]} has a line longer than {LINE_MAX_BYTES} bytes.")
            yield line


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _is_table_entry(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and all(isinstance(entry.get(key), str) for key in ("label", "file", "sha256"))
        and isinstance(entry.get("rows"), int)
        and not isinstance(entry.get("rows"), bool)
    )


def read_manifest(zf: zipfile.ZipFile) -> dict[str, Any]:
    info = _entry(zf, MANIFEST_NAME)
    if info.file_size > MANIFEST_MAX_BYTES:
        raise ArchiveError(f"The manifest is larger than {MANIFEST_MAX_BYTES} bytes.")
    try:
        manifest = json.loads(zf.read(info))
    except (ValueError, RecursionError, zipfile.BadZipFile, zlib.error, EOFError):
        raise ArchiveError("The manifest is not valid JSON.")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError("This is not a Majed Vanna backup archive.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ArchiveError(f"Unsupported backup format version {manifest.get('format_version')!r}.")
    tables = manifest.get("tables")
    if not isinstance(tables, list) or not all(_is_table_entry(t) for t in tables):
        raise ArchiveError("The manifest's table list is malformed.")
    if len({t["label"] for t in tables}) != len(tables):
        raise ArchiveError("The manifest lists a table more than once.")
    migrations = manifest.get("migrations")
    if (
        not isinstance(migrations, dict)
        or not all(_is_str_list(names) for names in migrations.values())
        or not isinstance(manifest.get("payload_sha256"), str)
    ):
        raise ArchiveError("The manifest lacks the migration state or the payload checksum.")
    return manifest


def _check_expansion(path: Path, zf: zipfile.ZipFile, manifest: dict[str, Any]) -> None:
    """Refuse a zip bomb from the sizes the archive declares (``zipfile`` never reads past them)."""
    declared = sum(_entry(zf, entry["file"]).file_size for entry in manifest["tables"])
    allowed = max(EXPANSION_FLOOR_BYTES, MAX_EXPANSION_RATIO * path.stat().st_size)
    if declared > allowed:
        raise ArchiveError(
            f"The archive expands to {declared} bytes, more than {MAX_EXPANSION_RATIO} times its size; refused."
        )


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
            _check_compatible(manifest)
            _check_expansion(path, zf, manifest)
            payload = hashlib.sha256()
            for entry in manifest["tables"]:
                digest, rows = hashlib.sha256(), 0
                for line in _lines(zf, entry["file"]):
                    digest.update(line)
                    payload.update(line)
                    rows += 1
                if digest.hexdigest() != entry["sha256"] or rows != entry["rows"]:
                    raise ArchiveError(f"Table {entry['label']} does not match its checksum or row count.")
            if payload.hexdigest() != manifest["payload_sha256"]:
                raise ArchiveError("The payload checksum does not match the manifest.")
    except zipfile.BadZipFile:
        raise ArchiveError("The file is not a zip archive, or it is damaged or incomplete.")
    except (zlib.error, EOFError, KeyError, UnicodeDecodeError):  # a damaged member header: its name is garbage
        raise ArchiveError("The archive is damaged or incomplete: a table file cannot be decompressed.")
    except OSError as exc:
        raise ArchiveError(f"The archive cannot be read: {(exc.strerror or 'input/output error').lower()}.")
    return manifest


def iter_rows(zf: zipfile.ZipFile, entry: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for line in _lines(zf, entry["file"]):
        row = json.loads(line)
        if not isinstance(row, dict):
            raise ArchiveError(f"Table {entry['label']} has a row that is not a JSON object.")
        yield row
