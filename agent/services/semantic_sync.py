"""The semantic layer's schema scan (``POST agent/semantic/sync``, ``manage.py sync_semantic_layer``; contract
§5 "Knowledge" → Semantic layer), audited ``semantic.sync``.

1. Read the live schema again (``data_source_schema(refresh=True)``: the introspection of ``agent.sql``).
2. Record the distinct values of low-cardinality text columns: for each such column one fixed statement
   (``semantic_sql.sample_statement``: introspected names as quoted identifiers, ``LIMIT k + 1``), checked by
   the read-only gate and run by the read-only runner, within ``SAMPLE_BUDGET_SECONDS`` in all; a column that
   fails or times out keeps the values it had.
3. In one transaction: create the tables, columns and relationships (foreign keys) the layer lacks; mark what
   the data source lost ``removed`` and what differs ``changed`` (never deleting an entry nor touching what a
   person wrote); flag the metrics and the question→SQL memories whose SQL reads a removed table or column
   (``Memory.flagged``, ``SemanticMetric.flagged``), and clear the flags the scan set once they no longer apply.

The answer is the drift report: added, removed and changed tables, columns and relationships, the flagged
metrics and memories, and the columns whose values could not be recorded (and why).
"""

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from majed_vanna.audit import audit_record
from majed_vanna.blocking import run_blocking
from majed_vanna.exceptions import ApplicationError, ServiceUnavailableError

from .. import selectors
from ..knowledge.semantic_drift import (
    DRIFT_FLAG,
    LiveTable,
    column_changes,
    live_relationships,
    live_schema,
    sampleable,
)
from ..knowledge.semantic_sql import broken_by, sample_statement, sample_values, sql_reads
from ..models import (
    DataSource,
    DescribedBy,
    DriftState,
    Memory,
    MemoryKind,
    MemoryStatus,
    Origin,
    SemanticColumn,
    SemanticMetric,
    SemanticRelationship,
    SemanticTable,
)
from ..sql import gate, runners
from ..sql.runners import SourceUnavailable
from ..sql.types import SqlError, SqlRefused, SqlTimeout
from .semantic import require_manager
from .source_probes import data_source_schema

logger = logging.getLogger(__name__)

ACTION = "semantic.sync"
SAMPLE_BUDGET_SECONDS = 60.0
MAX_SAMPLED_COLUMNS = 500
AUDITED_NAMES = 20
Progress = Callable[[str], None]
UNAVAILABLE = "The data source did not answer, so it could not be scanned; test its connection."


@dataclass
class Samples:
    values: dict[tuple[str, str], list] = field(default_factory=dict)  # (table, column), lower-cased
    skipped: list[dict[str, str]] = field(default_factory=list)


def _checked_statements(spec, live: dict[str, LiveTable], columns) -> list:
    """The gate's verdict on each sample statement (a ``CheckedSQL`` or the ``SqlRefused``), off the loop."""
    tables = [table.name for table in live.values()]
    verdicts = []
    for table, column in columns:
        statement = sample_statement(table, column, engine=spec.engine)
        try:
            verdicts.append(
                gate.check(
                    statement, dialect=spec.engine, tables=tables, allow_system_catalogs=spec.allow_system_catalogs
                )
            )
        except SqlRefused as refused:
            verdicts.append(refused)
    return verdicts


async def _sample(spec, live: dict[str, LiveTable], say: Progress) -> Samples:
    samples = Samples()
    wanted = [(t, c) for t in live.values() for c in t.columns.values() if sampleable(t, c)]
    for table, column in wanted[MAX_SAMPLED_COLUMNS:]:
        samples.skipped.append(
            {"column": f"{table.name}.{column.name}", "reason": "more columns than one scan samples"}
        )
    wanted = wanted[:MAX_SAMPLED_COLUMNS]
    verdicts = await run_blocking(_checked_statements, spec, live, wanted)
    deadline = time.monotonic() + SAMPLE_BUDGET_SECONDS
    stop_reason = ""
    done_per_table: dict[str, int] = defaultdict(int)
    for (table, column), checked in zip(wanted, verdicts, strict=True):
        name = f"{table.name}.{column.name}"
        if not stop_reason and time.monotonic() > deadline:
            stop_reason = "the scan's time budget for sample values was spent"
        if stop_reason:
            samples.skipped.append({"column": name, "reason": stop_reason})
            continue
        if isinstance(checked, SqlRefused):
            samples.skipped.append({"column": name, "reason": f"refused by the gate ({checked.rule})"})
            continue
        try:
            result = await runners.run(spec, checked)
        except SqlTimeout:
            samples.skipped.append({"column": name, "reason": "longer than the data source's statement timeout"})
            continue
        except (ServiceUnavailableError, SourceUnavailable) as exc:  # the source is down: stop asking it
            stop_reason = exc.message
            samples.skipped.append({"column": name, "reason": stop_reason})
            continue
        except (SqlRefused, SqlError) as exc:
            samples.skipped.append({"column": name, "reason": exc.message})
            continue
        if result.truncated:
            samples.skipped.append({"column": name, "reason": "the data source's row cap is below the sample size"})
            continue
        kept = sample_values(result.rows)
        samples.values[(table.name.lower(), column.name.lower())] = kept
        done_per_table[table.name] += 1 if kept else 0
    for table in live.values():
        say(f"  {table.name}: {len(table.columns)} columns, {done_per_table.get(table.name, 0)} with values recorded")
    return samples


async def semantic_sync(*, source: DataSource, actor, by: str = "", progress: Progress | None = None) -> dict[str, Any]:
    """Scan ``source`` and bring its semantic layer up to date; returns the drift report. ``actor`` ``None``:
    an operator's command named by ``by``. 503 when the data source does not answer (audited, nothing
    changed)."""
    say = progress or (lambda _line: None)
    if actor is not None:
        await sync_to_async(require_manager)(actor)
    say(f"Reading the schema of {source.name}")
    try:
        snapshot = (await data_source_schema(source=source, refresh=True))["schema"]
        live = live_schema(snapshot)
        say(f"  {len(live)} tables and views, {sum(len(t.columns) for t in live.values())} columns")
        spec = await sync_to_async(selectors.data_source_spec)(source)
        say("Recording the values of low-cardinality columns")
        samples = await _sample(spec, live, say)
    except SourceUnavailable:
        await sync_to_async(_audit_failure)(source=source, actor=actor, by=by, message=UNAVAILABLE)
        raise ServiceUnavailableError(UNAVAILABLE, retry_after=30) from None
    except ApplicationError as exc:
        await sync_to_async(_audit_failure)(source=source, actor=actor, by=by, message=exc.message)
        raise
    say("Recording drift")
    return await sync_to_async(_apply)(source=source, live=live, samples=samples, actor=actor, by=by)


def _audit_failure(*, source: DataSource, actor, by: str, message: str) -> None:
    extra = {"actor_id": "", "actor_name": by or "system"} if actor is None else {}
    audit_record(
        action=ACTION,
        actor=actor,
        resource="data_source",
        resource_id=source.pk,
        details={"data_source": source.name},
        success=False,
        error_message=message,
        **extra,
    )


class _Report:
    """The drift report as it is built."""

    def __init__(self, source: DataSource, now):
        self.data = {
            "data_source": {"id": str(source.pk), "name": source.name},
            "synced_at": now,
            "first_sync": False,
            "tables": {"added": [], "removed": [], "changed": []},
            "columns": {"added": [], "removed": [], "changed": []},
            "relationships": {"added": [], "removed": []},
            "sample_values": {"recorded": 0, "skipped": []},
            "flagged": {"metrics": [], "memories": []},
            "unflagged": {"metrics": [], "memories": []},
            "kept_descriptions": [],
        }

    def add(self, group: str, change: str, item) -> None:
        self.data[group][change].append(item)


def _removed_note(now) -> str:
    return f"Not in the data source at the scan of {now:%Y-%m-%d %H:%M} UTC"


def _apply_columns(*, source, entry, live_table, stored, samples, now, report, table_is_new_or_back, out) -> list[str]:
    """Columns of one table: created, updated, marked removed. Returns the table's changes, in words."""
    changes = []
    for key, live in live_table.columns.items():
        values = samples.values.get((live_table.name.lower(), key))
        column = stored.get(key)
        if column is None:
            column = SemanticColumn(
                data_source=source,
                table=entry,
                name=live.name,
                data_type=live.data_type,
                nullable=live.nullable,
                primary_key=live.primary_key,
                sample_values=values or [],
                synced_at=now,
            )
            out["new_columns"].append(column)
            if not table_is_new_or_back:
                report.add("columns", "added", f"{live_table.name}.{live.name}")
                changes.append(f"column {live.name} added")
            continue
        was = {"data_type": column.data_type, "nullable": column.nullable, "primary_key": column.primary_key}
        differences = column_changes(was, live)
        back = column.state == DriftState.REMOVED
        column.name, column.data_type = live.name, live.data_type
        column.nullable, column.primary_key, column.synced_at = live.nullable, live.primary_key, now
        if values is not None or not sampleable(live_table, live):
            column.sample_values = values or []
        if back and not table_is_new_or_back:
            report.add("columns", "added", f"{live_table.name}.{live.name}")
            changes.append(f"column {live.name} added")
        if differences and not back:
            column.state, column.state_detail = DriftState.CHANGED, "; ".join(differences)[:500]
            report.add("columns", "changed", {"name": f"{live_table.name}.{live.name}", "changes": differences})
            changes.append(f"column {live.name}: {', '.join(differences)}")
        else:
            column.state, column.state_detail = DriftState.PRESENT, ""
        out["columns"].append(column)
    for key, column in stored.items():
        if key in live_table.columns or column.state == DriftState.REMOVED:
            continue
        column.state, column.state_detail = DriftState.REMOVED, _removed_note(now)
        out["columns"].append(column)
        report.add("columns", "removed", f"{live_table.name}.{column.name}")
        changes.append(f"column {column.name} removed")
        if column.described_by == DescribedBy.HUMAN:
            report.data["kept_descriptions"].append(f"{live_table.name}.{column.name}")
    return changes


def _apply_tables(*, source, live, samples, now, report) -> dict[str, list]:
    out: dict[str, list] = {"new_tables": [], "tables": [], "new_columns": [], "columns": []}
    stored = {t.name.lower(): t for t in SemanticTable.objects.filter(data_source=source)}
    stored_columns: dict[Any, dict[str, SemanticColumn]] = defaultdict(dict)
    for column in SemanticColumn.objects.filter(data_source=source):
        stored_columns[column.table_id][column.name.lower()] = column
    report.data["first_sync"] = not stored
    for key, live_table in live.items():
        entry = stored.get(key)
        new = entry is None
        if new:
            entry = SemanticTable(data_source=source, name=live_table.name)
            out["new_tables"].append(entry)
        else:
            out["tables"].append(entry)
        back = not new and entry.state == DriftState.REMOVED
        changes = [] if new or entry.kind == live_table.kind else [f"now a {live_table.kind}"]
        entry.name, entry.kind = live_table.name, live_table.kind
        entry.row_estimate, entry.synced_at = live_table.row_estimate, now
        changes += _apply_columns(
            source=source,
            entry=entry,
            live_table=live_table,
            stored={} if new else stored_columns.get(entry.pk, {}),
            samples=samples,
            now=now,
            report=report,
            table_is_new_or_back=new or back,
            out=out,
        )
        if new or back:
            report.add("tables", "added", live_table.name)
        elif changes:
            report.add("tables", "changed", {"name": live_table.name, "changes": changes})
        entry.state = DriftState.CHANGED if changes and not (new or back) else DriftState.PRESENT
        entry.state_detail = "; ".join(changes)[:500] if entry.state == DriftState.CHANGED else ""
    for key, entry in stored.items():
        if key in live or entry.state == DriftState.REMOVED:
            continue
        entry.state, entry.state_detail = DriftState.REMOVED, _removed_note(now)
        out["tables"].append(entry)
        report.add("tables", "removed", entry.name)
        if entry.described_by == DescribedBy.HUMAN:
            report.data["kept_descriptions"].append(entry.name)
        for column in stored_columns.get(entry.pk, {}).values():
            if column.state != DriftState.REMOVED:
                column.state, column.state_detail = DriftState.REMOVED, _removed_note(now)
                out["columns"].append(column)
    report.data["sample_values"] = {
        "recorded": sum(1 for v in samples.values.values() if v),
        "skipped": samples.skipped,
    }
    return out


def _auto_description(item: dict) -> str:
    return (
        f"{item['from_table']}.{'/'.join(item['from_columns'])} references "
        f"{item['to_table']}.{'/'.join(item['to_columns'])} (foreign key)"
    )


def _apply_relationships(*, source, live, now, report) -> None:
    found = live_relationships(live)
    live_columns = {key: set(table.columns) for key, table in live.items()}
    for relationship in SemanticRelationship.objects.filter(data_source=source).select_for_update():
        key = relationship.key.lower()
        item = found.pop(key, None)
        if item is None and relationship.origin == Origin.HUMAN:  # declared by a person: do its sides exist?
            sides = [
                (relationship.from_table, relationship.from_columns),
                (relationship.to_table, relationship.to_columns),
            ]
            if all(all(c.lower() in live_columns.get(t.lower(), ()) for c in cols) for t, cols in sides):
                item = {}
        if item is None:
            if relationship.state != DriftState.REMOVED:
                relationship.state, relationship.state_detail = DriftState.REMOVED, _removed_note(now)
                report.add("relationships", "removed", relationship.key)
                relationship.save(update_fields=["state", "state_detail", "updated_at"])
            continue
        if relationship.state == DriftState.REMOVED:
            report.add("relationships", "added", relationship.key)
        relationship.state, relationship.state_detail, relationship.synced_at = DriftState.PRESENT, "", now
        if relationship.origin == Origin.SYNC and relationship.described_by != DescribedBy.HUMAN and item:
            relationship.description, relationship.described_by = _auto_description(item), DescribedBy.SYNC
        relationship.save()
    created = [
        SemanticRelationship(
            data_source=source,
            **item,
            description=_auto_description(item),
            described_by=DescribedBy.SYNC,
            origin=Origin.SYNC,
            synced_at=now,
        )
        for item in found.values()
    ]
    SemanticRelationship.objects.bulk_create(created)
    for relationship in created:
        report.add("relationships", "added", relationship.key)


def _removed_sets(source: DataSource, live: dict[str, LiveTable]) -> tuple[set[str], set[tuple[str, str]]]:
    tables = {
        name.lower()
        for name in SemanticTable.objects.filter(data_source=source, state=DriftState.REMOVED).values_list(
            "name", flat=True
        )
    }
    columns = {
        (table.lower(), name.lower())
        for table, name in SemanticColumn.objects.filter(data_source=source, state=DriftState.REMOVED).values_list(
            "table__name", "name"
        )
    }
    return tables - set(live), columns


def _flag(*, model, pk, current: str, reason: str | None, report_key: str, report, label: dict) -> None:
    """Set or clear one row's drift flag. A flag set by something else (not the scan's) is left as it is."""
    ours = current.startswith(DRIFT_FLAG) or not current
    if reason:
        report.data["flagged"][report_key].append({**label, "reason": reason})
        if ours and current != reason:
            model.objects.filter(pk=pk).update(flagged=reason[:200])
    elif current.startswith(DRIFT_FLAG):
        model.objects.filter(pk=pk).update(flagged="")
        report.data["unflagged"][report_key].append(label["id"])


def _flag_broken(*, source: DataSource, live: dict[str, LiveTable], report) -> None:
    from ..knowledge.semantic import metric_sql

    removed_tables, removed_columns = _removed_sets(source, live)
    live_columns = {key: set(table.columns) for key, table in live.items()}
    kwargs = {"removed_tables": removed_tables, "removed_columns": removed_columns, "live_columns": live_columns}
    for metric in SemanticMetric.objects.filter(data_source=source):
        sql = metric_sql(metric, source.engine)
        reason = broken_by(sql_reads(sql, source.engine), base_table=metric.table, **kwargs) if sql else None
        label = {"id": str(metric.pk), "name": metric.name}
        _flag(
            model=SemanticMetric,
            pk=metric.pk,
            current=metric.flagged,
            reason=reason,
            report_key="metrics",
            report=report,
            label=label,
        )
    names = {t.rpartition(".")[2] for t in removed_tables} | {c for _t, c in removed_columns}
    memories = (
        Memory.objects.filter(kind=MemoryKind.QUESTION_SQL)
        .filter(Q(data_source=source) | Q(data_source__isnull=True))
        .exclude(status=MemoryStatus.RETIRED)
        .exclude(sql="")
    )
    if not names:  # nothing removed: only the scan's own flags may need clearing
        memories = memories.filter(flagged__startswith=DRIFT_FLAG)
    for pk, question, sql, flagged in memories.values_list("pk", "question", "sql", "flagged").iterator():
        lowered = sql.lower()
        if not flagged.startswith(DRIFT_FLAG) and not any(name in lowered for name in names):
            continue  # cannot read anything removed: no parse needed
        reason = broken_by(sql_reads(sql, source.engine), **kwargs)
        label = {"id": str(pk), "question": question[:200]}
        _flag(model=Memory, pk=pk, current=flagged, reason=reason, report_key="memories", report=report, label=label)


def _audit_sync(*, source: DataSource, actor, by: str, report: dict) -> None:
    def names(items) -> list:
        return [item["name"] if isinstance(item, dict) else item for item in items[:AUDITED_NAMES]]

    details: dict[str, Any] = {"data_source": source.name, "first_sync": report["first_sync"]}
    for group in ("tables", "columns", "relationships"):
        details[group] = {
            change: {"count": len(items), "names": names(items)} for change, items in report[group].items()
        }
    details["flagged"] = {kind: len(items) for kind, items in report["flagged"].items()}
    details["sample_values"] = {
        "recorded": report["sample_values"]["recorded"],
        "skipped": len(report["sample_values"]["skipped"]),
    }
    extra = {"actor_id": "", "actor_name": by or "system"} if actor is None else {}
    audit_record(action=ACTION, actor=actor, resource="data_source", resource_id=source.pk, details=details, **extra)


@transaction.atomic
def _apply(*, source: DataSource, live: dict[str, LiveTable], samples: Samples, actor, by: str) -> dict[str, Any]:
    source = DataSource.objects.select_for_update().get(pk=source.pk)  # one scan of a source applies at a time
    now = timezone.now()
    report = _Report(source, now)
    out = _apply_tables(source=source, live=live, samples=samples, now=now, report=report)
    SemanticTable.objects.bulk_create(out["new_tables"])
    for table in out["tables"]:
        table.updated_at = now
    SemanticTable.objects.bulk_update(
        out["tables"], ["name", "kind", "row_estimate", "synced_at", "state", "state_detail", "updated_at"]
    )
    SemanticColumn.objects.bulk_create(out["new_columns"])
    for column in out["columns"]:
        column.updated_at = now
    fields = ["name", "data_type", "nullable", "primary_key", "sample_values", "synced_at", "state", "state_detail"]
    SemanticColumn.objects.bulk_update(out["columns"], [*fields, "updated_at"], batch_size=500)
    _apply_relationships(source=source, live=live, now=now, report=report)
    _flag_broken(source=source, live=live, report=report)
    _audit_sync(source=source, actor=actor, by=by, report=report.data)
    return report.data
