"""The one path every agent query takes to a data source (issue 14; contract §5 "Agent", the SQL rule):

1. the tables the caller may read: the source's introspected schema (cached with the source), narrowed to the
   tables the semantic layer shows the caller's role (``agent.selectors.semantic_visible_tables``; a source
   never scanned restricts nothing). A hidden table is, to the gate, a table that does not exist (rule
   ``table``);
2. ``agent.sql.gate.check`` (parse, functions, tables), off the event loop: only a ``CheckedSQL`` runs;
3. ``agent.sql.runners.run`` (read-only connection or transaction, statement timeout, row and byte caps).

A refusal, by the gate or by the engine's own guard, is audited (``agent.sql_refused``: the rule, the source and
the first characters of the statement) and raised as ``SqlRefused`` (``SQL_REFUSED`` with ``details.rule``).
The ``run_sql`` tool, the offline SQL passthrough and evaluation runs all call ``data_source_query``.
"""

from asgiref.sync import sync_to_async

from agent import selectors
from agent.models import DataSource
from agent.sql import gate, runners
from agent.sql.types import CheckedSQL, DataSourceSpec, QueryResult, SqlRefused
from majed_vanna.audit import audit_record
from majed_vanna.blocking import run_blocking

from .source_probes import data_source_schema

AUDITED_SQL_CHARS = 500


def schema_table_names(snapshot: dict | None) -> list[str]:
    """Table and view names of an introspected schema (``agent.sql.introspect``), schema-qualified outside the
    default schema (``public`` / ``main``)."""
    names = []
    for table in (snapshot or {}).get("tables", []):
        schema = table.get("schema")
        names.append(table["name"] if schema in (None, "", "public", "main") else f"{schema}.{table['name']}")
    return names


def readable_tables(tables: list[str], visible: list[str] | None) -> list[str]:
    """``tables`` (the schema's) narrowed to ``visible`` (the semantic layer's for a role; ``None``: all)."""
    if visible is None:
        return tables
    allowed = {name.lower() for name in visible}
    return [name for name in tables if name.lower() in allowed]


def _gate_inputs(source: DataSource, principal) -> tuple[DataSourceSpec, list[str] | None]:
    """The source's spec (decrypted) and the tables the caller's role may read (one thread hop for both)."""
    return (
        selectors.data_source_spec(source),
        selectors.semantic_visible_tables(source, getattr(principal, "role", None)),
    )


async def data_source_check(*, source: DataSource, sql: str, principal) -> CheckedSQL:
    """The gate's verdict on ``sql`` for ``source``: a ``CheckedSQL``, or ``SqlRefused`` (audited)."""
    spec, visible = await sync_to_async(_gate_inputs)(source, principal)
    return await _checked(source=source, spec=spec, visible=visible, sql=sql, principal=principal)


async def _checked(
    *, source: DataSource, spec: DataSourceSpec, visible: list[str] | None, sql: str, principal
) -> CheckedSQL:
    schema = await data_source_schema(source=source)
    tables = readable_tables(schema_table_names(schema["schema"]), visible)
    try:
        return await run_blocking(
            gate.check, sql, dialect=spec.engine, tables=tables, allow_system_catalogs=spec.allow_system_catalogs
        )
    except SqlRefused as refused:
        await sync_to_async(_audit_refused)(source=source, sql=sql, principal=principal, refused=refused)
        raise


async def data_source_query(*, source: DataSource, sql: str, principal, dry_run: bool = False) -> QueryResult:
    """Check ``sql`` with the gate, then run it read-only on ``source``; refusals are audited. ``dry_run``:
    ``EXPLAIN`` it first (the agent's correction loop: a plan error costs no scan). The result carries the
    ``CheckedSQL`` (the statement that ran, the tables it read)."""
    spec, visible = await sync_to_async(_gate_inputs)(source, principal)  # decrypted once, for the gate and the run
    checked = await _checked(source=source, spec=spec, visible=visible, sql=sql, principal=principal)
    try:
        if dry_run:
            await runners.explain(spec, checked)
        result = await runners.run(spec, checked)
        result.checked = checked
        return result
    except SqlRefused as refused:  # the engine's own guard (read-only role, authorizer, cost)
        await sync_to_async(_audit_refused)(source=source, sql=sql, principal=principal, refused=refused)
        raise


def _audit_refused(*, source: DataSource, sql: str, principal, refused: SqlRefused) -> None:
    audit_record(
        action="agent.sql_refused",
        actor=principal,
        resource="data_source",
        resource_id=source.pk,
        details={"rule": refused.rule, "data_source": source.name, "sql": sql[:AUDITED_SQL_CHARS]},
        success=False,
        error_message=refused.message,
    )
