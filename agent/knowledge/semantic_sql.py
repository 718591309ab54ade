"""The semantic layer's SQL, built and read with sqlglot, never by pasting text into a statement:

* ``sample_statement``: the scan's fixed query for a column's distinct values (quoted introspected names);
* ``metric_statement``: a metric's ``SELECT expression FROM table WHERE filters``, from parsed parts (each
  part must be one SQL expression, nothing else), then checked by the read-only gate like any agent SQL;
* ``sql_reads`` / ``broken_by``: what a statement reads, and whether a removal breaks it (schema drift).
"""

from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp

from agent.sql.dialects import dialect_for

from .semantic_drift import DEFAULT_SCHEMAS, DRIFT_FLAG, LiveColumn, LiveTable, qualified

MAX_SAMPLE_VALUES = 20  # a column with more distinct values is not low-cardinality: no samples kept
MAX_SAMPLE_CHARS = 80  # each kept value, at most
METRIC_ALIAS = "value"


def sample_statement(table: LiveTable, column: LiveColumn, *, engine: str, limit: int = MAX_SAMPLE_VALUES) -> str:
    """The server's own fixed statement for a column's distinct values (at most ``limit + 1`` rows, so that one
    more than ``limit`` says "not low-cardinality"), built from the introspected names as quoted identifiers,
    never from text a person or a model typed. It still goes through the gate before it runs."""
    dialect = dialect_for(engine)
    db = table.schema if table.schema not in DEFAULT_SCHEMAS else None
    value = exp.column(column.name, quoted=True)
    count = exp.Count(this=exp.Star())
    query = (
        exp.select(value.copy(), count.copy())
        .from_(exp.table_(table.bare, db=db, quoted=True))
        .where(exp.not_(exp.Is(this=value.copy(), expression=exp.null())))
        .group_by(value.copy())
        .order_by(exp.Ordered(this=count.copy(), desc=True), value.copy())
        .limit(limit + 1)
    )
    return query.sql(dialect=dialect)


def sample_values(rows: list[list[Any]], *, limit: int = MAX_SAMPLE_VALUES) -> list[Any]:
    """The values to keep from the statement's rows: all of them (each bounded) when there are at most
    ``limit``, else none."""
    if len(rows) > limit:
        return []
    kept = []
    for row in rows:
        value = row[0]
        if isinstance(value, str):
            value = value[:MAX_SAMPLE_CHARS]
        elif not isinstance(value, int | float | bool):
            value = str(value)[:MAX_SAMPLE_CHARS]
        kept.append(value)
    return kept


class NotAnExpression(ValueError):
    """The text is not exactly one SQL expression (a statement, several, or unreadable)."""


def parse_expression(text: str, engine: str) -> exp.Expression:
    """``text`` as one SQL expression (``SUM(total)``, ``status <> 'cancelled'``); ``NotAnExpression`` for
    anything else: a statement, two of them, an alias, a subquery, or what sqlglot cannot read."""
    try:
        parsed = [node for node in sqlglot.parse(text, read=dialect_for(engine)) if node is not None]
    except Exception:  # ParseError, TokenError, RecursionError
        raise NotAnExpression("It could not be read as SQL.") from None
    if len(parsed) != 1 or not isinstance(parsed[0], exp.Condition) or isinstance(parsed[0], exp.Subquery):
        raise NotAnExpression("It must be one SQL expression (no statement, alias or subquery).")
    if any(isinstance(node, exp.Query) for node in parsed[0].walk()):
        raise NotAnExpression("It must not hold a query.")
    return parsed[0]


def metric_statement(*, expression: str, table: str, filters: list[str], engine: str) -> str:
    """The statement a metric stands for, generated from its parsed parts (``NotAnExpression`` on a bad part).
    The result is still to be checked by the gate (``agent.sql.gate.check``) before anything runs it."""
    dialect = dialect_for(engine)
    schema, _, bare = table.rpartition(".")
    query = exp.select(exp.alias_(parse_expression(expression, engine), METRIC_ALIAS)).from_(
        exp.table_(bare, db=schema or None, quoted=True)
    )
    conditions = [parse_expression(condition, engine) for condition in filters]
    if conditions:
        query = query.where(exp.and_(*conditions))
    return query.sql(dialect=dialect)


# --- what SQL reads


@dataclass(frozen=True)
class Reads:
    tables: frozenset[str]  # lower-cased qualified names
    columns: frozenset[tuple[str | None, str]]  # (table it resolves to, or None when unqualified; column)


def sql_reads(sql: str, engine: str) -> Reads | None:
    """The tables and columns ``sql`` reads (``None`` when sqlglot cannot read it). CTE names are not tables;
    a column qualified by a CTE or subquery alias resolves to nothing and is left out; output aliases used
    unqualified (``ORDER BY n``) are not columns."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect_for(engine))
    except Exception:  # ParseError, TokenError, RecursionError
        return None
    if tree is None:
        return None
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    aliases: dict[str, str | None] = {}
    tables = set()
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            continue
        bare, schema = table.name.lower(), (table.db or "").lower()
        if not schema and bare in ctes:
            aliases[(table.alias or table.name).lower()] = None
            continue
        name = qualified(schema, bare)
        tables.add(name)
        aliases[(table.alias or table.name).lower()] = name
    for sub in tree.find_all(exp.Subquery):
        if sub.alias:
            aliases[sub.alias.lower()] = None
    output = {alias.alias.lower() for alias in tree.find_all(exp.Alias) if alias.alias}
    columns = set()
    for column in tree.find_all(exp.Column):
        name = column.name.lower()
        if not name:
            continue
        if column.table:
            resolved = aliases.get(column.table.lower(), column.table.lower())
            if resolved is not None:
                columns.add((resolved, name))
        elif name not in output:
            columns.add((None, name))
    return Reads(tables=frozenset(tables), columns=frozenset(columns))


def broken_by(
    reads: Reads | None,
    *,
    removed_tables: set[str],
    removed_columns: set[tuple[str, str]],
    live_columns: dict[str, set[str]],
    base_table: str | None = None,
) -> str | None:
    """Why SQL that ``reads`` this no longer works after the removals (``None``: nothing it reads was removed).

    ``removed_tables`` and the keys of ``live_columns`` are lower-cased qualified names; ``removed_columns``
    ``(table, column)`` pairs. An unqualified column is broken when a table the SQL reads (``base_table`` for a
    metric's expression) lost a column of that name and no table it reads still has one."""
    if reads is None:
        return None
    read_tables = set(reads.tables) | ({base_table.lower()} if base_table else set())
    gone = sorted(read_tables & removed_tables)
    if gone:
        return f"{DRIFT_FLAG}reads the table {gone[0]}, which was removed from the data source"
    for table, column in sorted(reads.columns, key=lambda pair: (pair[0] or "", pair[1])):
        if table is not None:
            if (table, column) in removed_columns:
                return f"{DRIFT_FLAG}reads {table}.{column}, which was removed from the data source"
            continue
        lost = [t for t in sorted(read_tables) if (t, column) in removed_columns]
        if lost and not any(column in live_columns.get(t, set()) for t in read_tables):
            return f"{DRIFT_FLAG}reads {lost[0]}.{column}, which was removed from the data source"
    return None
