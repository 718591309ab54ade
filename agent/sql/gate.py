"""The read-only SQL gate, layers 1-3 of issue 14 (contract §5 "Agent", the SQL rule at its end).

``check()`` turns untrusted SQL into a ``CheckedSQL`` or raises ``SqlRefused(rule, message)``. It is pure: no
database, no settings, no I/O. Each layer is a function of its own so that each can be tested alone:

- ``parse_statement`` (layer 1a): length cap, sqlglot parse with the source's dialect, exactly one statement.
- ``check_statement`` (layer 1b): the root is a SELECT or a set operation of SELECTs, and every node of the tree
  is of an allowed kind (an allow-list of sqlglot classes): no write, DDL, ``INTO``, locking clause, ``COPY``,
  ``PRAGMA``, ``ATTACH``, ``SET``, transaction control or ``Command`` (sqlglot's fallback for what it cannot
  classify: ``DO`` blocks, ``VACUUM``, ``EXPLAIN``, ``CALL``...) anywhere, CTEs and subqueries included.
- ``check_functions`` (layer 2): every function is on the dialect's allow-list (``agent.sql.dialects``), matched
  on its normalised name, schema-qualified, quoted and case variants included; cast targets are allowed types;
  size arguments and ``generate_series`` bounds are small literals.
- ``check_tables`` (layer 3): every relation read is a table or view of ``tables`` (CTE names are not tables);
  system catalogs are refused unless the source allows them.

What runs is not the text received but sqlglot's regeneration of the checked tree for the dialect, without its
comments. It is parsed again and must regenerate to itself, and that second tree is checked too, so that the
statement executed is the statement checked even where sqlglot and the database would read comments, quotes or
odd characters differently. Resource limits the statement alone cannot show (cross joins, unbounded recursive
CTEs, series over dates) are left to the runners' statement timeout, row cap and byte cap.
"""

import logging
import re
from collections.abc import Collection, Mapping
from decimal import Decimal, InvalidOperation

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from agent.sql import dialects as d
from agent.sql.types import CheckedSQL, SqlRefused

MAX_SQL_CHARS = 20_000
# Every rule the gate refuses with (``SqlRefused.rule``, ``details.rule`` in the API).
RULES = (
    "too_long", "parse", "single_statement", "select_only", "write_node", "into", "locking", "transaction",
    "session", "pragma", "attach", "command", "expression", "identifier", "function", "type", "resource", "table",
    "system_catalog", "unsupported",
)  # fmt: skip
_MAX_NAME_CHARS = 64


class _DropCommandFallbackWarnings(logging.Filter):
    """sqlglot logs the untrusted statement at WARNING when it falls back to a ``Command`` node; the gate refuses
    every ``Command``, so the warning only copies attacker-chosen text into the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Falling back to parsing as a 'Command'" not in record.getMessage()


logging.getLogger("sqlglot").addFilter(_DropCommandFallbackWarnings())


# ---------------------------------------------------------------------------------------------------------------
# Layer 1: parse, one statement, only read-only SELECT syntax


def parse_statement(sql: str, dialect: str) -> exp.Expression:
    """Parse ``sql`` with ``dialect``; exactly one statement (a trailing ``;`` and comments are fine)."""
    dialect = d.dialect_for(dialect)
    if not isinstance(sql, str):
        raise SqlRefused("parse", "The query must be text")
    if len(sql) > MAX_SQL_CHARS:
        raise SqlRefused("too_long", f"The query is too long (at most {MAX_SQL_CHARS:,} characters)")
    return _parse_one(sql, dialect)


def _parse_one(sql: str, dialect: str) -> exp.Expression:
    try:
        parsed = sqlglot.parse(sql, read=dialect)
    except Exception:  # ParseError, TokenError, RecursionError on deep nesting, and whatever else sqlglot raises
        raise SqlRefused("parse", "The query could not be read as SQL") from None
    # ``None`` is an empty statement (";;"); ``Semicolon`` holds only the comments after the last ";".
    statements = [s for s in parsed if s is not None and not isinstance(s, exp.Semicolon)]
    if not statements:
        raise SqlRefused("single_statement", "The query is empty")
    if len(statements) > 1:
        raise SqlRefused("single_statement", "Only one statement is allowed")
    return statements[0]


_WRITE_NODES: dict[type[exp.Expression], str] = {
    exp.Insert: "INSERT",
    exp.Update: "UPDATE",
    exp.Delete: "DELETE",
    exp.Merge: "MERGE",
    exp.Copy: "COPY",
    exp.Create: "CREATE",
    exp.Drop: "DROP",
    exp.Alter: "ALTER",
    exp.AlterRename: "ALTER",
    exp.TruncateTable: "TRUNCATE",
    exp.Grant: "GRANT",
    exp.Revoke: "REVOKE",
    exp.Comment: "COMMENT",
    exp.Analyze: "ANALYZE",
    exp.Refresh: "REFRESH",
    exp.LoadData: "LOAD",
    exp.Cache: "CACHE",
    exp.Uncache: "UNCACHE",
    exp.Returning: "RETURNING",
    exp.OnConflict: "ON CONFLICT",
}
_WRITE_CLASSES = tuple(_WRITE_NODES)

# Families with a rule of their own (checked by isinstance, so subclasses are caught too).
_FAMILY_RULES: tuple[tuple[tuple[type[exp.Expression], ...], str, str], ...] = (
    ((exp.Into,), "into", "SELECT ... INTO is not allowed; the query may only read"),
    ((exp.Lock, exp.LockingStatement), "locking", "Locking clauses (FOR UPDATE, FOR SHARE) are not allowed"),
    ((exp.Transaction, exp.Commit, exp.Rollback), "transaction", "Transaction control is not allowed"),
    ((exp.Set, exp.SetItem, exp.AlterSession), "session", "Changing session settings is not allowed"),
    ((exp.Pragma,), "pragma", "PRAGMA statements are not allowed"),
    ((exp.Attach, exp.Detach), "attach", "Attaching or detaching databases is not allowed"),
)

# Every node class a read-only SELECT may contain, besides function nodes (``exp.Func``: layer 2 names and
# checks those). Matched on the exact class, never a subclass, so that a new sqlglot class is refused until
# someone looks at it.
_NODES = {
    # query structure
    exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery, exp.With, exp.CTE, exp.TableAlias,
    exp.From, exp.Join, exp.Lateral, exp.Values, exp.Where, exp.Group, exp.Having, exp.Order, exp.Ordered,
    exp.Limit, exp.Offset, exp.Fetch, exp.LimitOptions, exp.Distinct, exp.Window, exp.WindowSpec,
    exp.Cube, exp.Rollup, exp.GroupingSets, exp.Filter, exp.WithinGroup, exp.RespectNulls, exp.IgnoreNulls,
    # names and values
    exp.Table, exp.Alias, exp.Column, exp.Identifier, exp.Star, exp.Dot, exp.Bracket, exp.Literal, exp.Null,
    exp.Boolean, exp.HexString, exp.National, exp.RawString, exp.Var, exp.Paren, exp.Tuple, exp.Interval,
    exp.DataType, exp.DataTypeParam, exp.ObjectIdentifier,  # cast targets: layer 2 checks the type
exp.ColumnDef,  # the column list of a table function, AS t(a int)
    exp.JSONPath, exp.JSONPathKey, exp.JSONPathRoot, exp.JSONPathSubscript,
    # operators and predicates
    exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.IntDiv, exp.Neg, exp.Not, exp.DPipe,
    exp.BitwiseAnd, exp.BitwiseOr, exp.BitwiseXor, exp.BitwiseNot, exp.BitwiseLeftShift,
    exp.BitwiseRightShift, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ,
    exp.NullSafeNEQ, exp.Is, exp.In, exp.Between, exp.Like, exp.ILike, exp.Glob, exp.SimilarTo, exp.Escape,
    exp.Any, exp.All, exp.AtTimeZone,
}  # fmt: skip
ALLOWED_NODES: frozenset[type[exp.Expression]] = frozenset(_NODES)

_SET_OPERATIONS = (exp.Union, exp.Intersect, exp.Except)


def check_statement(tree: exp.Expression) -> None:
    """Layer 1: only read-only SELECT syntax, anywhere in the tree."""
    for node in tree.walk():
        kind = type(node)
        if isinstance(node, _WRITE_CLASSES):
            keyword = next(k for cls, k in _WRITE_NODES.items() if isinstance(node, cls))
            raise SqlRefused("write_node", f"Statements that change data or schema are not allowed ({keyword})")
        for classes, rule, message in _FAMILY_RULES:
            if isinstance(node, classes):
                raise SqlRefused(rule, message)
        if isinstance(node, exp.Command):
            word = _command_word(node)
            suffix = f" ({word})" if word else ""
            raise SqlRefused("command", f"This kind of statement is not allowed{suffix}; only SELECT queries are")
        if kind not in ALLOWED_NODES and not isinstance(node, exp.Func):
            raise SqlRefused("expression", _expression_message(node))
        if kind is exp.Identifier and not node.quoted and not _plain_word(node.name):
            raise SqlRefused("identifier", f"The name {_clip(node.name)!r} must be written in double quotes")
        if kind is exp.Var and not _plain_word(node.name.replace(" ", "_")):
            raise SqlRefused("identifier", "The query uses a keyword that is not allowed here")
        if kind is exp.Literal and not node.is_string and not _NUMBER.fullmatch(node.name):
            raise SqlRefused("parse", "The query could not be read as SQL")
    root = tree
    while isinstance(root, (exp.Subquery, exp.Paren)):
        root = root.this
    if not isinstance(root, (exp.Select, *_SET_OPERATIONS)):
        raise SqlRefused("select_only", "Only SELECT queries are allowed")


_NUMBER = re.compile(r"[0-9][0-9_]*(\.[0-9_]*)?([eE][+-]?[0-9]+)?|\.[0-9]+([eE][+-]?[0-9]+)?")


def _plain_word(text: str) -> bool:
    """An unquoted name the database reads as sqlglot does: a letter or ``_`` (any alphabet), then letters,
    digits, ``_`` or ``$``. Anything else (``$1``, a zero-width space, a look-alike punctuation mark) is a place
    where the database and sqlglot may disagree, so it must be quoted to be used."""
    return bool(text) and (text[0].isalpha() or text[0] == "_") and all(c.isalnum() or c in "_$" for c in text)


def _command_word(node: exp.Command) -> str:
    word = node.this if isinstance(node.this, str) else ""
    word = word.strip().split(" ", 1)[0].upper() if word else ""
    return word if word.isascii() and word.isalpha() and len(word) <= 20 else ""


_EXPRESSION_NAMES = {
    exp.Placeholder: "Query parameters are not allowed; write the values into the query",
    exp.Parameter: "Query parameters are not allowed; write the values into the query",
    exp.SessionParameter: "Session variables are not allowed",
    exp.TableSample: "TABLESAMPLE is not allowed",
    exp.Hint: "Optimizer hints are not allowed",
}


def _expression_message(node: exp.Expression) -> str:
    return _EXPRESSION_NAMES.get(type(node), "The query uses SQL that is not allowed here; only plain SELECT is")


# ---------------------------------------------------------------------------------------------------------------
# Layer 2: functions, casts and resource-bound arguments


def check_functions(tree: exp.Expression, dialect: str) -> tuple[str, ...]:
    """Layer 2: every function called is on the dialect's allow-list; returns their normalised names."""
    dialect = d.dialect_for(dialect)
    allowed = d.ALLOWED_FUNCTIONS[dialect]
    session_keywords = d.SESSION_KEYWORDS[dialect]
    called: set[str] = set()
    for node in tree.walk():
        if isinstance(node, (exp.DataType, exp.ObjectIdentifier)):
            _check_type(node, dialect)
        elif isinstance(node, exp.Column):
            ident = node.this
            if (
                session_keywords
                and isinstance(ident, exp.Identifier)
                and not ident.quoted
                and not node.table
                and ident.name.lower() in session_keywords
            ):
                raise SqlRefused("function", f"The function {ident.name.lower()} is not allowed")
        elif isinstance(node, exp.Func) and type(node) not in _SYNTAX_FUNCTIONS:
            name = function_name(node, dialect)
            qualifier = _function_qualifier(node, dialect)
            if qualifier is not None and qualifier not in d.FUNCTION_SCHEMAS[dialect]:
                shown = _clip(f"{qualifier}.{_display_name(node, name, dialect)}")
                raise SqlRefused("function", f"The function {shown} is not allowed")
            if name not in allowed:
                raise SqlRefused("function", f"The function {_display_name(node, name, dialect)} is not allowed")
            _check_resources(node, name, dialect)
            called.add(name)
    return tuple(sorted(called))


_SYNTAX_FUNCTIONS = frozenset(d.SYNTAX_FUNCTIONS)


def function_name(node: exp.Func, dialect: str) -> str:
    """The normalised name of a function node: sqlglot's name for a function it knows, the name as written
    (lower-cased; PostgreSQL keeps a quoted name as written, since it is case-sensitive there) otherwise."""
    if isinstance(node, exp.Anonymous):
        this = node.this
        if isinstance(this, exp.Identifier):
            return this.name if this.quoted and dialect == "postgres" else this.name.lower()
        return str(this).lower()
    return node.sql_name().lower()


def _function_qualifier(node: exp.Func, dialect: str) -> str | None:
    """``pg_catalog`` for ``pg_catalog.lower(x)`` or ``FROM pg_catalog.generate_series(...)``; None if bare."""
    parent = node.parent
    if isinstance(parent, exp.Dot) and parent.expression is node:
        return _dotted_name(parent.this, dialect)
    if isinstance(parent, exp.Table) and parent.this is node and (parent.args.get("db") or parent.args.get("catalog")):
        return ".".join(_identifier(p, dialect) for p in (parent.args.get("catalog"), parent.args.get("db")) if p)
    return None


def _dotted_name(node: exp.Expression, dialect: str) -> str:
    if isinstance(node, exp.Dot):
        return f"{_dotted_name(node.this, dialect)}.{_dotted_name(node.expression, dialect)}"
    if isinstance(node, exp.Column):
        return ".".join(_identifier(p, dialect) for p in node.parts)
    if isinstance(node, exp.Identifier):
        return _identifier(node, dialect)
    return "?"  # anything else qualifying a function is no schema the allow-list knows


def _identifier(node: exp.Expression, dialect: str) -> str:
    if isinstance(node, exp.Identifier) and node.quoted and dialect == "postgres":
        return node.name
    return node.name.lower()


def _display_name(node: exp.Func, name: str, dialect: str) -> str:
    """The function's name as the user would write it, for a refusal message (the dialect's spelling of a
    function sqlglot knows: generate_series rather than sqlglot's exploding_generate_series)."""
    if not isinstance(node, (exp.Anonymous, exp.Cast)):
        try:
            head = node.sql(dialect=dialect).split("(", 1)[0].strip()
        except Exception:
            head = ""
        if head.replace("_", "").isalnum():
            return _clip(head.lower())
    return _clip(name)


def _clip(text: str) -> str:
    """A name from the statement, made safe to show: printable characters only, at most _MAX_NAME_CHARS."""
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= _MAX_NAME_CHARS else text[: _MAX_NAME_CHARS - 3] + "..."


def _check_type(node: exp.Expression, dialect: str) -> None:
    if isinstance(node, exp.DataType) and node.this in d.ALLOWED_TYPES:
        return
    try:
        name = node.sql(dialect=dialect)
    except Exception:
        name = "this type"
    raise SqlRefused("type", f"Converting to the type {_clip(name)} is not allowed")


def _check_resources(node: exp.Func, name: str, dialect: str) -> None:
    size_arg = d.SIZE_ARGUMENTS.get(name)
    if size_arg is not None:
        size = _number(node.args.get(size_arg))
        if size is None or size > d.MAX_GENERATED_SIZE:
            display = _display_name(node, name, dialect)
            raise SqlRefused(
                "resource", f"The length given to {display} must be a number no larger than {d.MAX_GENERATED_SIZE:,}"
            )
    if name in d.GENERATE_SERIES:
        _check_series(node)


def _check_series(node: exp.Func) -> None:
    start, end, step = (node.args.get(k) for k in ("start", "end", "step"))
    first, last = _number(start), _number(end)
    if first is not None or last is not None:  # a series of numbers: count its rows
        by = Decimal(1) if step is None else _number(step)
        if first is None or last is None or by is None or by == 0:
            raise SqlRefused("resource", "generate_series needs numbers written in the query as its bounds and step")
        if (last - first) / by + 1 > d.GENERATE_SERIES_MAX_ROWS:
            raise SqlRefused(
                "resource", f"generate_series may produce at most {d.GENERATE_SERIES_MAX_ROWS:,} rows in one query"
            )
        return
    # a series over dates or timestamps: literal bounds only; its size is left to the timeout and the row cap
    if not all(_is_constant(a) for a in (start, end, step) if a is not None):
        raise SqlRefused("resource", "generate_series needs values written in the query as its bounds and step")


def _number(node: exp.Expression | None) -> Decimal | None:
    """The value of a numeric literal (``5``, ``-5``, ``(5)``, ``1e9``), else None."""
    sign = 1
    while isinstance(node, (exp.Neg, exp.Paren)):
        sign = -sign if isinstance(node, exp.Neg) else sign
        node = node.this
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            return sign * Decimal(node.this)
        except (InvalidOperation, TypeError):
            return None
    return None


def _is_constant(node: exp.Expression) -> bool:
    """A literal, a cast of a literal, an interval of a literal: nothing that reads a row or calls anything."""
    return all(
        isinstance(n, (exp.Literal, exp.Cast, exp.DataType, exp.DataTypeParam, exp.Interval, exp.Var, exp.Neg))
        and type(n) is not exp.TryCast
        for n in node.walk()
    )


# ---------------------------------------------------------------------------------------------------------------
# Layer 3: tables


def check_tables(
    tree: exp.Expression,
    dialect: str,
    tables: Mapping[str, object] | Collection[str] | None,
    *,
    allow_system_catalogs: bool = False,
) -> tuple[str, ...]:
    """Layer 3: every relation read is in ``tables`` (as named there) or is a CTE of the query; system catalogs
    only with ``allow_system_catalogs``. ``tables=None`` skips the membership check (offline SQL-passthrough
    tests only); the system-catalog rule still applies. Returns the relations read."""
    dialect = d.dialect_for(dialect)
    known = None if tables is None else _known_tables(tables, dialect)
    read: set[str] = set()
    for table in tree.find_all(exp.Table):
        if isinstance(table.this, exp.Func):
            continue  # a table-valued function: layer 2 checks it like any function
        if not isinstance(table.this, exp.Identifier) or table.args.get("catalog") is not None:
            raise SqlRefused("table", "Only tables of this data source may be read (schema.table at most)")
        name = table.this.name.lower()
        schema_node = table.args.get("db")
        schema = schema_node.name.lower() if schema_node is not None else None
        if schema is None and _is_cte_reference(table, name):
            continue
        if _is_system(name, schema, dialect):
            if allow_system_catalogs:
                read.add(f"{schema}.{name}" if schema else name)
                continue
            shown = _clip(f"{schema}.{name}" if schema else name)
            raise SqlRefused("system_catalog", f"System catalogs ({shown}) are not available for this data source")
        if known is None:
            read.add(f"{schema}.{name}" if schema else name)
            continue
        canonical = known.get(f"{schema}.{name}" if schema else name)
        if canonical is None:
            shown = _clip(f"{schema}.{name}" if schema else name)
            raise SqlRefused("table", f"The table {shown} is not available in this data source")
        read.add(canonical)
    return tuple(sorted(read))


def _known_tables(tables: Mapping[str, object] | Collection[str], dialect: str) -> dict[str, str]:
    """normalised reference ("orders", "public.orders", "sales.orders") -> the name as the schema gives it."""
    defaults = d.DEFAULT_SCHEMAS[dialect]
    known: dict[str, str] = {}
    for original in tables:
        name = str(original).lower()
        known[name] = str(original)
        schema, _, bare = name.rpartition(".")
        if not schema:
            for default in defaults:
                known.setdefault(f"{default}.{name}", str(original))
        elif schema in defaults:
            known.setdefault(bare, str(original))
    return known


def _is_system(name: str, schema: str | None, dialect: str) -> bool:
    prefixes = d.SYSTEM_PREFIXES[dialect]
    if name in d.SYSTEM_TABLES[dialect]:
        return True
    if dialect == "postgres":
        if schema is None:
            return name.startswith(prefixes)
        return schema in d.SYSTEM_SCHEMAS[dialect] or schema.startswith(prefixes)
    return name.startswith(prefixes) or (schema is not None and schema in d.SYSTEM_SCHEMAS[dialect])


def _is_cte_reference(table: exp.Table, name: str) -> bool:
    """Is this unqualified name a CTE visible where it stands? Without RECURSIVE, a CTE sees only the CTEs before
    it in its WITH (and not itself: ``WITH orders AS (SELECT * FROM orders)`` reads the table); the query body
    sees them all. Anything else is a table, so a CTE name never hides a relation the database would read."""
    via_cte = None
    child: exp.Expression = table
    node = table.parent
    while node is not None:
        if isinstance(node, exp.CTE):
            via_cte = node
        elif isinstance(node, exp.With):
            ctes = node.expressions
            if node.args.get("recursive"):
                visible = ctes
            else:
                index = next((i for i, c in enumerate(ctes) if c is via_cte), len(ctes))
                visible = ctes[:index]
            if any(c.alias.lower() == name for c in visible):
                return True
        else:
            with_ = node.args.get("with_")
            if (
                isinstance(with_, exp.With)
                and child is not with_
                and any(c.alias.lower() == name for c in with_.expressions)
            ):
                return True
        child, node = node, node.parent
    return False


# ---------------------------------------------------------------------------------------------------------------
# The gate


def check(
    sql: str,
    *,
    dialect: str,
    tables: Mapping[str, object] | Collection[str] | None,
    allow_system_catalogs: bool = False,
) -> CheckedSQL:
    """Check ``sql`` for a data source of ``dialect`` (``sqlite``, ``postgres``; the engine name ``postgresql``
    is accepted) whose readable relations are ``tables``. Returns what may run; raises ``SqlRefused``."""
    dialect = d.dialect_for(dialect)
    tree = parse_statement(sql, dialect)
    _check_all(tree, dialect, tables, allow_system_catalogs)
    text = _generate(tree, dialect)
    # What runs is ``text``: read it back, require it to be its own regeneration, and check that tree too.
    again = _parse_one(text, dialect)
    if _generate(again, dialect) != text:
        raise SqlRefused("unsupported", "The query could not be rewritten safely for this data source")
    functions, read = _check_all(again, dialect, tables, allow_system_catalogs)
    return CheckedSQL(sql=text, dialect=dialect, tables=read, functions=functions)


def _check_all(tree, dialect, tables, allow_system_catalogs) -> tuple[tuple[str, ...], tuple[str, ...]]:
    check_statement(tree)
    functions = check_functions(tree, dialect)
    read = check_tables(tree, dialect, tables, allow_system_catalogs=allow_system_catalogs)
    return functions, read


def _generate(tree: exp.Expression, dialect: str) -> str:
    try:
        return tree.sql(dialect=dialect, comments=False, unsupported_level=ErrorLevel.RAISE)
    except Exception:  # UnsupportedError: sqlglot would drop or change part of the query; RecursionError
        raise SqlRefused("unsupported", "The query uses SQL this data source cannot run as written") from None
