"""Schema introspection of a data source (issue 14; contract §5 ``agent/data-sources/{id}/schema``).

``await introspect(spec)`` returns::

    {"engine": "sqlite" | "postgresql",
     "tables": [{"schema": "main" | "public" | ..., "name": "orders", "kind": "table" | "view",
                 "row_estimate": 3000 | None,
                 "columns": [{"name", "type", "nullable", "default", "primary_key"}],
                 "primary_key": ["id"],
                 "foreign_keys": [{"columns": ["customer_id"],
                                   "references": {"schema", "table", "columns": ["id"]}}]}]}

These are the server's own fixed queries, not the model's: PostgreSQL catalog queries on the runner's own
pooled connection (read-only transaction, the source's timeout; only what the source's login may SELECT),
SQLite ``sqlite_master`` with ``pragma_table_info``/``pragma_foreign_key_list`` on a ``mode=ro``,
``query_only`` connection on the ``sql`` thread lane. Row estimates: PostgreSQL ``reltuples`` (``None``
before the first ANALYZE), SQLite ``sqlite_stat1`` when ANALYZE ran, else ``count(*)`` within the timeout.
The source's breaker guards it like a query.
"""

import threading
import time

from agent.sql.runners import breaker_for, postgresql, sqlite
from agent.sql.runners.errors import SourceUnavailable
from agent.sql.types import DataSourceSpec, SqlError

PG_RELATIONS = """
SELECT c.oid, n.nspname, c.relname, c.relkind, CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::bigint END
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
  AND pg_catalog.has_table_privilege(c.oid, 'SELECT')
  AND pg_catalog.has_schema_privilege(n.oid, 'USAGE')
ORDER BY n.nspname, c.relname
"""
PG_COLUMNS = """
SELECT a.attrelid, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
       pg_catalog.pg_get_expr(d.adbin, d.adrelid)
FROM pg_catalog.pg_attribute a LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""
PG_CONSTRAINTS = """
SELECT con.conrelid, con.contype,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i),
       fn.nspname, fc.relname,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i)
FROM pg_catalog.pg_constraint con
LEFT JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
WHERE con.conrelid = ANY(%s) AND con.contype IN ('p', 'f')
ORDER BY con.conrelid, con.conname
"""
KINDS = {"r": "table", "p": "table", "f": "table", "v": "view", "m": "view"}


async def introspect(spec: DataSourceSpec) -> dict:
    if spec.engine not in ("postgresql", "sqlite"):
        raise SqlError("The data source's engine is not supported")
    async with breaker_for(spec).aguard(failure_exceptions=(SourceUnavailable,)):
        if spec.engine == "postgresql":
            return await _postgresql(spec)
        return await sqlite.in_lane(_sqlite_sync, spec)


def _table(schema: str, name: str, kind: str, rows: int | None) -> dict:
    return {
        "schema": schema,
        "name": name,
        "kind": kind,
        "row_estimate": rows,
        "columns": [],
        "primary_key": [],
        "foreign_keys": [],
    }


async def _postgresql(spec: DataSourceSpec) -> dict:
    async with postgresql.session(spec) as (conn, _deadline):
        relations = await (await conn.execute(PG_RELATIONS)).fetchall()
        tables = {oid: _table(schema, name, KINDS[kind], rows) for oid, schema, name, kind, rows in relations}
        oids = list(tables)
        for oid, name, type_, nullable, default in await (await conn.execute(PG_COLUMNS, [oids])).fetchall():
            tables[oid]["columns"].append(
                {"name": name, "type": type_, "nullable": nullable, "default": default, "primary_key": False}
            )
        for oid, kind, columns, ref_schema, ref_table, ref_columns in await (
            await conn.execute(PG_CONSTRAINTS, [oids])
        ).fetchall():
            if kind == "p":
                tables[oid]["primary_key"] = list(columns)
            else:
                tables[oid]["foreign_keys"].append(
                    {
                        "columns": list(columns),
                        "references": {"schema": ref_schema, "table": ref_table, "columns": list(ref_columns)},
                    }
                )
    for table in tables.values():
        for column in table["columns"]:
            column["primary_key"] = column["name"] in table["primary_key"]
    return {"engine": "postgresql", "tables": list(tables.values())}


def _sqlite_sync(spec: DataSourceSpec, cancel: threading.Event) -> dict:
    started = time.monotonic()
    deadline = started + max(spec.statement_timeout_ms, 1) / 1000
    counts_until = started + (deadline - started) / 2  # exact counts may use half the time, then None
    conn = sqlite.open_connection(spec)
    try:
        conn.set_progress_handler(sqlite.make_progress_handler(deadline, cancel), sqlite.PROGRESS_STEPS)
        try:
            return {"engine": "sqlite", "tables": _sqlite_tables(conn, counts_until)}
        except Exception as exc:  # sqlite3 errors only reach here
            if isinstance(exc, SqlError):
                raise
            raise sqlite.classify(exc, deadline=deadline, cancel=cancel) from None
    finally:
        conn.close()


def _sqlite_tables(conn, counts_until: float) -> list[dict]:
    objects = conn.execute(
        "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') "
        "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
    ).fetchall()
    stats = _sqlite_stats(conn)
    tables = []
    for name, kind in objects:
        table = _table("main", name, kind, None)
        columns = conn.execute(
            'SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid', (name,)
        ).fetchall()
        table["columns"] = [
            {"name": c, "type": t or "", "nullable": not notnull, "default": d, "primary_key": pk > 0}
            for c, t, notnull, d, pk in columns
        ]
        table["primary_key"] = [c for c, *_, pk in sorted(columns, key=lambda col: col[4]) if pk > 0]
        keys: dict[int, dict] = {}
        for key_id, _seq, ref_table, column, ref_column in conn.execute(
            'SELECT id, seq, "table", "from", "to" FROM pragma_foreign_key_list(?) ORDER BY id, seq', (name,)
        ):
            key = keys.setdefault(
                key_id, {"columns": [], "references": {"schema": "main", "table": ref_table, "columns": []}}
            )
            key["columns"].append(column)
            key["references"]["columns"].append(ref_column)
        table["foreign_keys"] = list(keys.values())
        if kind == "table":
            table["row_estimate"] = (
                stats.get(name.lower()) if name.lower() in stats else _count(conn, name, counts_until)
            )
        tables.append(table)
    return tables


def _sqlite_stats(conn) -> dict[str, int]:
    try:
        rows = conn.execute("SELECT tbl, stat FROM sqlite_stat1").fetchall()
    except Exception:  # no ANALYZE yet: no such table
        return {}
    stats = {}
    for table, stat in rows:
        try:
            stats[table.lower()] = int(str(stat).split()[0])
        except (ValueError, IndexError):
            continue
    return stats


def _count(conn, name: str, counts_until: float) -> int | None:
    if time.monotonic() > counts_until:
        return None
    try:
        # A table name of the file itself (sqlite_master), quoted as an identifier: not the model's input.
        return conn.execute(f"SELECT count(*) FROM {sqlite.quote_identifier(name)}").fetchone()[0]  # noqa: S608
    except Exception:  # interrupted at the deadline: no estimate
        return None
