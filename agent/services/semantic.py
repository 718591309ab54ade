"""Writes on the semantic layer by people (contract §5 "Knowledge" → Semantic layer; ``admin_tools``).

Tables and columns come from the schema scan (``semantic_sync``); people describe them (description,
synonyms, and a table's ``visible_to``) and may delete them (a table still in the data source comes back,
undescribed, at the next scan). Metrics, business terms and relationships are created, changed and deleted
here. A description written here is marked ``described_by: human``, which the scan never overwrites.

A metric is checked when it is saved: its base table is a present table of the layer, its expression and each
filter are one SQL expression each (``agent.knowledge.semantic_sql``), the statement they make passes the
read-only gate, and the columns it reads exist in the base table. Saving clears a schema-drift flag.

Every write is audited ``semantic.update`` (``details.operation``: create, update or delete).
"""

import functools
from typing import Any

from django.db import IntegrityError, transaction

from majed_vanna.audit import audit_record
from majed_vanna.exceptions import ConflictError, ValidationFailedError

from ..knowledge.semantic import may_manage
from ..knowledge.semantic_drift import relationship_key
from ..knowledge.semantic_sql import NotAnExpression, metric_statement, sql_reads
from ..models import (
    DataSource,
    DescribedBy,
    DriftState,
    Origin,
    SemanticColumn,
    SemanticMetric,
    SemanticRelationship,
    SemanticTable,
    SemanticTerm,
)
from ..models.sources import SOURCE_ROLES
from ..sql import gate
from ..sql.types import SqlRefused

ACTION = "semantic.update"
MAX_SYNONYMS = 50
UPDATABLE = {
    "table": ("description", "synonyms", "visible_to"),
    "column": ("description", "synonyms"),
    "metric": ("name", "description", "synonyms", "expression", "table", "filters"),
    "term": ("term", "definition", "synonyms"),
    "relationship": ("description",),
}
KIND_OF = {
    SemanticTable: "table",
    SemanticColumn: "column",
    SemanticMetric: "metric",
    SemanticTerm: "term",
    SemanticRelationship: "relationship",
}


def entry_name(entry) -> str:
    if isinstance(entry, SemanticColumn):
        return f"{entry.table.name}.{entry.name}"
    if isinstance(entry, SemanticTerm):
        return entry.term
    if isinstance(entry, SemanticRelationship):
        return entry.key
    return entry.name


def _audit(*, actor, entry, operation: str, details: dict | None = None) -> None:
    audit_record(
        action=ACTION,
        actor=actor,
        resource=f"semantic_{KIND_OF[type(entry)]}",
        resource_id=entry.pk,
        details={
            "operation": operation,
            "kind": KIND_OF[type(entry)],
            "name": entry_name(entry),
            "data_source": str(entry.data_source_id),
            **(details or {}),
        },
    )


def require_manager(actor) -> None:
    """Views check ``admin_tools`` first; services refuse too (the admin site, commands, other callers)."""
    from majed_vanna.audit import audit_denied_and_raise

    if actor is not None and not may_manage(actor):
        audit_denied_and_raise(
            actor=actor, message="Changing the semantic layer needs admin_tools.", resource="semantic"
        )


def for_managers(service):
    """``service`` in a transaction, for ``admin_tools`` only: a refusal is audited (``permission.denied``)
    before the transaction starts, so that its audit row stays."""
    atomic = transaction.atomic(service)

    @functools.wraps(service)
    def checked(*args, actor, **kwargs):
        require_manager(actor)
        return atomic(*args, actor=actor, **kwargs)

    return checked


def clean_synonyms(values) -> list[str]:
    """Stripped, without blanks and case-insensitive duplicates, in the order given."""
    seen, kept = set(), []
    for value in values or []:
        text = " ".join(str(value).split())
        if text and text.lower() not in seen:
            seen.add(text.lower())
            kept.append(text)
    if len(kept) > MAX_SYNONYMS:
        raise ValidationFailedError(details={"synonyms": [f"At most {MAX_SYNONYMS} synonyms."]})
    return kept


def _clean_roles(values) -> list[str]:
    unknown = sorted(set(values) - set(SOURCE_ROLES))
    if unknown:
        raise ValidationFailedError(
            details={"visible_to": [f"Unknown role(s): {', '.join(unknown)}. Roles: {', '.join(SOURCE_ROLES)}."]}
        )
    return [role for role in SOURCE_ROLES if role in values]


def _present_table(source: DataSource, name: str, *, field: str = "table") -> SemanticTable:
    table = (
        SemanticTable.objects.filter(data_source=source, name__iexact=(name or "").strip())
        .exclude(state=DriftState.REMOVED)
        .first()
    )
    if table is None:
        raise ValidationFailedError(
            details={field: [f"{name!r} is not a table of this data source's semantic layer (run a sync first?)."]}
        )
    return table


def _present_columns(table: SemanticTable) -> set[str]:
    return {name.lower() for name in table.columns.exclude(state=DriftState.REMOVED).values_list("name", flat=True)}


# --- metrics


def check_metric(*, source: DataSource, expression: str, table: str, filters: list[str]) -> tuple[str, str]:
    """The metric's base table as the layer names it and its statement, or 422 naming the field at fault."""
    base = _present_table(source, table)
    filters = [str(f) for f in filters]
    try:
        metric_statement(expression=expression, table=base.name, filters=[], engine=source.engine)
    except NotAnExpression as exc:
        raise ValidationFailedError(details={"expression": [str(exc)]}) from None
    for index, condition in enumerate(filters):
        try:
            metric_statement(expression="1", table=base.name, filters=[condition], engine=source.engine)
        except NotAnExpression as exc:
            raise ValidationFailedError(details={"filters": [f"Filter {index + 1}: {exc}"]}) from None
    statement = metric_statement(expression=expression, table=base.name, filters=filters, engine=source.engine)
    present = list(
        SemanticTable.objects.filter(data_source=source)
        .exclude(state=DriftState.REMOVED)
        .values_list("name", flat=True)
    )
    try:
        gate.check(statement, dialect=source.engine, tables=present)
    except SqlRefused as refused:
        raise ValidationFailedError(
            details={"expression": [f"Refused by the read-only gate: {refused.message}"]}
        ) from None
    known = _present_columns(base)
    reads = sql_reads(statement, source.engine)
    unknown = sorted(
        column
        for owner, column in (reads.columns if reads else ())
        if owner in (None, base.name.lower()) and column not in known
    )
    if known and unknown:
        raise ValidationFailedError(details={"expression": [f"{base.name} has no column(s) {', '.join(unknown)}."]})
    return base.name, statement


def _unique(model, *, source: DataSource, field: str, value: str, exclude=None) -> None:
    taken = model.objects.filter(data_source=source, **{f"{field}__iexact": value})
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise ConflictError(f"{value!r} already exists in this data source", details={field: ["Already in use."]})


def _saved(entry, *, field: str):
    try:
        with transaction.atomic():
            entry.full_clean(validate_unique=False, validate_constraints=False)
            entry.save()
    except IntegrityError:  # a concurrent write took the name
        raise ConflictError("It already exists in this data source", details={field: ["Already in use."]}) from None
    return entry


@for_managers
def semantic_metric_create(
    *,
    actor,
    data_source: DataSource,
    name: str,
    expression: str,
    table: str,
    description: str = "",
    synonyms=None,
    filters=None,
) -> SemanticMetric:
    name = name.strip()
    _unique(SemanticMetric, source=data_source, field="name", value=name)
    table_name, _sql = check_metric(source=data_source, expression=expression, table=table, filters=filters or [])
    metric = SemanticMetric(
        data_source=data_source,
        name=name,
        description=description,
        synonyms=clean_synonyms(synonyms),
        expression=expression.strip(),
        table=table_name,
        filters=[str(f).strip() for f in filters or []],
    )
    _saved(metric, field="name")
    _audit(actor=actor, entry=metric, operation="create", details={"values": _values(metric, "metric")})
    return metric


# --- terms and relationships


@for_managers
def semantic_term_create(*, actor, data_source: DataSource, term: str, definition: str, synonyms=None) -> SemanticTerm:
    term = " ".join(term.split())
    _unique(SemanticTerm, source=data_source, field="term", value=term)
    entry = SemanticTerm(
        data_source=data_source, term=term, definition=definition.strip(), synonyms=clean_synonyms(synonyms)
    )
    _saved(entry, field="term")
    _audit(actor=actor, entry=entry, operation="create", details={"values": _values(entry, "term")})
    return entry


def _columns_of(table: SemanticTable, columns: list[str], *, field: str) -> list[str]:
    present = {
        name.lower(): name for name in table.columns.exclude(state=DriftState.REMOVED).values_list("name", flat=True)
    }
    missing = [c for c in columns if str(c).lower() not in present]
    if not columns or missing:
        raise ValidationFailedError(
            details={
                field: [
                    f"Name at least one column of {table.name}"
                    + (f"; unknown: {', '.join(map(str, missing))}" if missing else "")
                ]
            }
        )
    return [present[str(c).lower()] for c in columns]


@for_managers
def semantic_relationship_create(
    *,
    actor,
    data_source: DataSource,
    from_table: str,
    from_columns: list[str],
    to_table: str,
    to_columns: list[str],
    description: str = "",
) -> SemanticRelationship:
    """A join people declare (one the data source has no foreign key for)."""
    source_table = _present_table(data_source, from_table, field="from_table")
    target_table = _present_table(data_source, to_table, field="to_table")
    sides = {
        "from_table": source_table.name,
        "from_columns": _columns_of(source_table, from_columns, field="from_columns"),
        "to_table": target_table.name,
        "to_columns": _columns_of(target_table, to_columns, field="to_columns"),
    }
    if len(sides["from_columns"]) != len(sides["to_columns"]):
        raise ValidationFailedError(details={"to_columns": ["Give as many columns on each side."]})
    key = relationship_key(**sides)
    _unique(SemanticRelationship, source=data_source, field="key", value=key)
    entry = SemanticRelationship(
        data_source=data_source,
        **sides,
        key=key,
        description=description.strip(),
        described_by=DescribedBy.HUMAN if description.strip() else DescribedBy.NOBODY,
        origin=Origin.HUMAN,
    )
    _saved(entry, field="key")
    _audit(actor=actor, entry=entry, operation="create", details={"values": _values(entry, "relationship")})
    return entry


# --- any entry


def _values(entry, kind: str) -> dict[str, Any]:
    values = {name: getattr(entry, name) for name in UPDATABLE[kind]}
    if kind == "relationship":
        values.update(from_table=entry.from_table, to_table=entry.to_table)
    return values


def _apply_metric_changes(entry: SemanticMetric, changes: dict[str, Any]) -> None:
    if "name" in changes:
        changes["name"] = changes["name"].strip()
        _unique(SemanticMetric, source=entry.data_source, field="name", value=changes["name"], exclude=entry)
    if {"expression", "table", "filters"} & set(changes):
        table, _sql = check_metric(
            source=entry.data_source,
            expression=changes.get("expression", entry.expression),
            table=changes.get("table", entry.table),
            filters=changes.get("filters", entry.filters) or [],
        )
        changes["table"] = table
    if "expression" in changes:
        changes["expression"] = changes["expression"].strip()
    if "filters" in changes:
        changes["filters"] = [str(f).strip() for f in changes["filters"] or []]


@for_managers
def semantic_entry_update(*, entry, actor, **changes):
    """Change the fields people own (``UPDATABLE`` by kind; partial). A new description marks the entry
    ``described_by: human`` (or nobody's, when emptied). Audits old and new values of what changed."""
    kind = KIND_OF[type(entry)]
    unknown = set(changes) - set(UPDATABLE[kind])
    if unknown:
        raise ValidationFailedError(details={name: ["This field cannot be changed."] for name in sorted(unknown)})
    entry = type(entry).objects.select_for_update().get(pk=entry.pk)
    if "synonyms" in changes:
        changes["synonyms"] = clean_synonyms(changes["synonyms"])
    if "visible_to" in changes:
        changes["visible_to"] = _clean_roles(changes["visible_to"])
    if "term" in changes:
        changes["term"] = " ".join(changes["term"].split())
        _unique(SemanticTerm, source=entry.data_source, field="term", value=changes["term"], exclude=entry)
    if "description" in changes:
        changes["description"] = changes["description"].strip()
    if kind == "metric":
        _apply_metric_changes(entry, changes)
    before = _values(entry, kind)
    for name, value in changes.items():
        setattr(entry, name, value)
    diff = {name: {"old": before[name], "new": value} for name, value in changes.items() if before[name] != value}
    if "description" in diff and hasattr(entry, "described_by"):
        entry.described_by = DescribedBy.HUMAN if entry.description else DescribedBy.NOBODY
    if kind == "metric" and diff:
        entry.flagged = ""  # a person looked at it and it passes the checks again
    if not diff:
        return entry
    _saved(entry, field="term" if kind == "term" else "name")
    _audit(actor=actor, entry=entry, operation="update", details={"changes": diff})
    return entry


@for_managers
def semantic_entry_delete(*, entry, actor) -> None:
    """Delete an entry (a table with its columns). Audited with what it held."""
    kind = KIND_OF[type(entry)]
    details = {"values": _values(entry, kind)}
    if kind == "table":
        details["columns"] = entry.columns.count()
    _audit(actor=actor, entry=entry, operation="delete", details=details)
    entry.delete()
