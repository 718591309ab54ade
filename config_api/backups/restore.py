"""Restore an archive: verify first, then replace the application data in one transaction.

All-or-nothing: every delete and insert happens inside one ``transaction.atomic()``; foreign keys are
checked (``check_constraints``) and row counts compared with the manifest before it commits, so any
failure rolls the database back to exactly what it was. Tables with policy ``merge`` (audit, tokens)
gain the backup's missing rows and keep the rows written since; a row of the backup whose content was
changed since is put back as it was backed up, and counted (``rows_reverted``). Rows outside the backup
(e.g. Django's admin log) that would point at a row the restore removed are handled like ``on_delete``
would: set to NULL, or deleted.
"""

import json
import zipfile
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, models, transaction

from ..runtime import publish_stamp
from .archive import ArchiveError, encode_value, iter_rows, verify_archive
from .registry import Table, application_tables

BATCH_ROWS = 500
# Per table, what a restore did: {"action": "replaced", "rows": n} or
# {"action": "merged", "rows_added": n, "rows_reverted": m}.
TableOutcome = dict[str, Any]
RestoreProgress = Callable[[str, TableOutcome], None] | None


def table_outcome(table: Table, written: int, reverted: int = 0) -> TableOutcome:
    if table.policy == "merge":
        return {"action": "merged", "rows_added": written, "rows_reverted": reverted}
    return {"action": "replaced", "rows": written}


def describe_outcome(label: str, outcome: TableOutcome) -> str:
    """One line for people: ``replaced accounts.user: 4 rows`` / ``merged accounts.auditlog: ...``."""
    if outcome["action"] == "merged":
        reverted = outcome.get("rows_reverted", 0)
        return (
            f"merged {label}: {outcome['rows_added']} missing rows added, "
            f"{reverted} changed rows put back as backed up, newer rows kept"
        )
    return f"replaced {label}: {outcome['rows']} rows"


def _batches(iterable: Iterator, size: int) -> Iterator[list]:
    while batch := list(islice(iterable, size)):
        yield batch


def _instances(model: type[models.Model], rows: list[dict[str, Any]]) -> list[models.Model]:
    fields = {field.attname: field for field in model._meta.concrete_fields}
    try:
        return [model(**{name: fields[name].to_python(value) for name, value in row.items()}) for row in rows]
    except KeyError as exc:
        raise ArchiveError(f"Table {model._meta.label_lower} has an unknown column {exc.args[0]!r}.")


def _as_archived(values: dict[str, Any]) -> Any:
    """A row as the archive holds it (``encode_value``, then JSON), so stored and archived rows compare."""
    return json.loads(json.dumps({name: encode_value(value) for name, value in values.items()}))


def _revert_changed(model: type[models.Model], objs: list[models.Model], archived: list[dict[str, Any]]) -> int:
    """Put rows that exist but differ from the archive back to the archived content; returns how many."""
    pk_name = model._meta.pk.attname
    names = [field.attname for field in model._meta.concrete_fields]
    current = {row[pk_name]: row for row in model._base_manager.filter(pk__in=[obj.pk for obj in objs]).values(*names)}
    reverted = 0
    for obj, row in zip(objs, archived, strict=True):
        stored = current.get(getattr(obj, pk_name))
        if stored is None or _as_archived(stored) == _as_archived({name: row.get(name) for name in names}):
            continue
        changes = {name: getattr(obj, name) for name in names if name != pk_name}
        model._base_manager.filter(pk=obj.pk).update(**changes)  # update(): no auto_now stamping
        reverted += 1
    return reverted


def _insert(table: Table, rows: Iterator[dict[str, Any]]) -> tuple[int, int]:
    """Insert rows as they are (``raw``: no ``auto_now`` stamping); for ``merge`` only the missing ones, and
    rows present but changed since the backup are put back. Returns (rows inserted, rows put back)."""
    model = table.model
    fields = list(model._meta.concrete_fields)
    pk_name = model._meta.pk.attname
    written = reverted = 0
    for batch in _batches(rows, BATCH_ROWS):
        objs = _instances(model, batch)
        if table.policy == "merge":
            existing = set(model._base_manager.filter(pk__in=[obj.pk for obj in objs]).values_list("pk", flat=True))
            present = [(obj, row) for obj, row in zip(objs, batch, strict=True) if getattr(obj, pk_name) in existing]
            if present:
                reverted += _revert_changed(model, [obj for obj, _ in present], [row for _, row in present])
            objs = [obj for obj in objs if getattr(obj, pk_name) not in existing]
        size = max(1, connection.ops.bulk_batch_size(fields, objs) or len(objs))
        for start in range(0, len(objs), size):
            model._base_manager._insert(objs[start : start + size], fields=fields, raw=True, using=connection.alias)
        written += len(objs)
    return written, reverted


def _repair_dangling_references(replaced: set[type[models.Model]]) -> None:
    """Rows the restore keeps may point at rows it removed: apply their ``on_delete`` intent."""
    for model in apps.get_models(include_auto_created=True):
        if model in replaced or not model._meta.managed or model._meta.proxy:
            continue
        for field in model._meta.concrete_fields:
            target = field.related_model if field.is_relation else None
            if target not in replaced:
                continue
            target_values = target._base_manager.values(field.target_field.attname)
            orphans = model._base_manager.exclude(**{f"{field.attname}__isnull": True}).exclude(
                **{f"{field.attname}__in": target_values}
            )
            if field.null:
                orphans.update(**{field.attname: None})
            else:
                orphans.delete()


def _reset_sequences(tables: list[Table]) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), [table.model for table in tables])
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def restore_archive(
    path: Path, *, expected_sha256: str | None = None, progress: RestoreProgress = None
) -> tuple[dict[str, Any], dict[str, TableOutcome]]:
    """Verify ``path`` (checksum, manifest, schema) and replace the application data with its content.

    Returns the manifest and what was done per table (``table_outcome``). Raises ``ArchiveError`` (nothing
    changed) or a database error (rolled back, nothing changed).
    """
    manifest = verify_archive(path, expected_sha256=expected_sha256)
    tables = application_tables()
    entries = {entry["label"]: entry for entry in manifest["tables"]}
    replaced = {table.model for table in tables if table.policy == "replace"}
    outcomes: dict[str, TableOutcome] = {}
    with zipfile.ZipFile(path) as zf, transaction.atomic():
        with connection.cursor() as cursor:
            for table in reversed(tables):  # children first
                if table.policy == "replace":
                    cursor.execute(f"DELETE FROM {connection.ops.quote_name(table.model._meta.db_table)}")  # noqa: S608
        for table in tables:  # parents first
            outcomes[table.label] = table_outcome(table, *_insert(table, iter_rows(zf, entries[table.label])))
            if progress:
                progress(table.label, outcomes[table.label])
        _repair_dangling_references(replaced)
        _reset_sequences(tables)
        connection.check_constraints(table_names=[table.model._meta.db_table for table in tables])
        for table in tables:
            count, expected = table.model._base_manager.count(), entries[table.label]["rows"]
            if count < expected or (table.policy == "replace" and count != expected):
                raise ArchiveError(f"Table {table.label} holds {count} rows after the restore, expected {expected}.")
    # The configuration row was replaced: make every process re-read it (see config_api.runtime).
    publish_stamp(None)
    return manifest, outcomes
