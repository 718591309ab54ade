"""SQLite execution (issue 14, layer 5): a statement the gate accepted runs on a connection that cannot
change anything, whatever the statement turns out to be.

Each run opens its own connection (cheap for SQLite, and nothing carries over between runs) on a thread of
the bounded ``sql`` lane (``majed_vanna.blocking``, ``SQL_SQLITE_MAX_WORKERS``), and closes it after:

* ``file:...?mode=ro`` (``uri=True``): the file is opened read-only;
* ``PRAGMA query_only = 1``, ``PRAGMA trusted_schema = OFF``, no ``ATTACH`` (``SQLITE_LIMIT_ATTACHED`` 0),
  no value longer than the result byte cap (``SQLITE_LIMIT_LENGTH``: ``randomblob(1e9)`` is refused, not
  allocated), extension loading off; no Python function is registered (no REGEXP), so nothing the
  statement calls runs Python code holding the interpreter lock;
* an authorizer (``set_authorizer``) that allows only SELECT, recursive CTEs, reads of the tables the gate
  named (``CheckedSQL.tables``, plus the tables those views read, found by the engine itself) and the
  built-in functions of ``SQLITE_FUNCTIONS``. It is what stops ``ATTACH`` + ``CREATE``, ``VACUUM INTO``,
  temporary triggers and PRAGMA writes, which ``mode=ro`` alone lets through;
* a progress handler that interrupts the statement at the data source's timeout (or when the caller
  goes away);
* one statement only (Python's ``sqlite3`` refuses a string with two);
* rows fetched in batches up to the row cap and the byte cap.
"""

import asyncio
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings

from agent.sql.types import CheckedSQL, DataSourceSpec, QueryResult, SqlError, SqlTimeout
from majed_vanna.blocking import submit

from .errors import SourceUnavailable, engine_refusal, query_error
from .results import RowCollector

logger = logging.getLogger(__name__)

LANE = "sql"
# SQLite virtual-machine steps between two looks at the clock: about a millisecond of work, rare enough
# that the handler (Python, so it takes the interpreter lock) does not slow the event loop's thread.
PROGRESS_STEPS = 20_000
MIN_VALUE_BYTES = 64 * 1024
BUSY_TIMEOUT_SECONDS = 2.0

# Built-in functions without side effects or unbounded allocations (no load_extension, randomblob,
# zeroblob, sqlite_* introspection, changes()...). The gate has its own allow-list; this one is the
# engine's, and holds even when the gate is wrong.
SQLITE_FUNCTIONS = frozenset(
    [
        "abs",
        "avg",
        "ceil",
        "ceiling",
        "char",
        "coalesce",
        "concat",
        "concat_ws",
        "count",
        "cume_dist",
        "date",
        "datetime",
        "dense_rank",
        "exp",
        "first_value",
        "floor",
        "format",
        "glob",
        "group_concat",
        "hex",
        "ifnull",
        "iif",
        "instr",
        "json",
        "json_array",
        "json_array_length",
        "json_extract",
        "json_object",
        "json_quote",
        "json_type",
        "json_valid",
        "julianday",
        "lag",
        "last_value",
        "lead",
        "length",
        "like",
        "likelihood",
        "likely",
        "ln",
        "log",
        "log10",
        "log2",
        "lower",
        "ltrim",
        "max",
        "min",
        "mod",
        "nth_value",
        "ntile",
        "nullif",
        "octet_length",
        "percent_rank",
        "pi",
        "pow",
        "power",
        "printf",
        "quote",
        "radians",
        "degrees",
        "random",
        "rank",
        "replace",
        "round",
        "row_number",
        "rtrim",
        "sign",
        "sin",
        "cos",
        "tan",
        "sqrt",
        "strftime",
        "string_agg",
        "substr",
        "substring",
        "sum",
        "time",
        "timediff",
        "total",
        "trim",
        "trunc",
        "typeof",
        "unicode",
        "unixepoch",
        "unlikely",
        "upper",
        "->",
        "->>",
    ]
)

_OK, _DENY = sqlite3.SQLITE_OK, sqlite3.SQLITE_DENY


def database_path(url: str) -> Path:
    """The file of a ``sqlite:///relative`` or ``sqlite:////absolute`` URL (dj-database-url's form)."""
    parts = urlsplit(url)
    if parts.scheme not in ("sqlite", "sqlite3", "file") or not parts.path:
        raise SqlError("The data source's URL is not a SQLite file URL")
    path = unquote(parts.path)
    if parts.scheme != "file":
        path = path[1:] if path.startswith("/") else path
    if not path or path == ":memory:":
        raise SqlError("A SQLite data source must be a file")
    return Path(path).resolve()


def open_connection(spec: DataSourceSpec) -> sqlite3.Connection:
    """A read-only connection to the data source's file (``mode=ro``, ``query_only``, limits); no guards
    that depend on the statement yet (``install_guards``)."""
    uri = database_path(spec.url).as_uri() + "?mode=ro"
    timeout = min(BUSY_TIMEOUT_SECONDS, max(spec.statement_timeout_ms, 1) / 1000)
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None, check_same_thread=True)
    except sqlite3.Error:
        raise SourceUnavailable() from None
    try:
        conn.execute("PRAGMA query_only = 1")
        conn.execute("PRAGMA trusted_schema = OFF")
        if hasattr(conn, "enable_load_extension"):
            conn.enable_load_extension(False)
        conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, max(MIN_VALUE_BYTES, int(spec.max_result_bytes)))
    except sqlite3.Error:
        conn.close()
        raise SourceUnavailable() from None
    return conn


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table_key(name: str) -> str:
    name = name.strip().strip('"`[]').lower()
    return name.removeprefix("main.").strip('"`[]')


@dataclass(frozen=True)
class Readable:
    tables: frozenset[str]  # may be read: the gate's tables and what their views read
    schema: frozenset[str]  # every table and view of the file (a name outside it is a CTE or subquery)


def readable_tables(conn: sqlite3.Connection, tables: tuple[str, ...]) -> Readable:
    """``tables`` (as the gate named them) plus every table their views read, as the engine resolves them:
    reads through a view are checked against the view's own tables, never against the name SQLite reports
    as the reader (a CTE may be called like a view)."""
    named = {_table_key(name) for name in tables if name}
    objects = conn.execute("SELECT lower(name), type FROM sqlite_master WHERE type IN ('table', 'view')").fetchall()
    views = [name for name, kind in objects if kind == "view" and name in named]
    readable = set(named)
    for view in views:
        reads: set[str] = set()

        def record(action, arg1, arg2, db_name, source, reads=reads):
            if action == sqlite3.SQLITE_READ and arg1:
                reads.add(arg1.lower())
            return _OK

        conn.set_authorizer(record)
        try:
            conn.execute(f"SELECT * FROM {quote_identifier(view)} LIMIT 0").fetchall()  # noqa: S608 - a view of the file
        finally:
            conn.set_authorizer(None)
        readable |= reads
    return Readable(frozenset(readable), frozenset(name for name, _ in objects))


def make_authorizer(readable: Readable, *, system_catalogs: bool):
    """Allow SELECT, recursive CTEs, reads of ``readable`` tables of the main database and the functions of
    ``SQLITE_FUNCTIONS``; deny everything else (writes, DDL, ATTACH, PRAGMA, transactions, ANALYZE...).

    SQLite reports some reads without a database name (``count(*)``, a CTE read as a whole): a name that
    is no table or view of the file is a CTE or subquery of the statement itself, whose own reads are
    checked one by one."""

    def authorize(action, arg1, arg2, db_name, source):
        if action == sqlite3.SQLITE_SELECT or action == sqlite3.SQLITE_RECURSIVE:
            return _OK
        if action == sqlite3.SQLITE_READ:
            name = (arg1 or "").lower()
            if name.startswith("sqlite_") and not system_catalogs:
                return _DENY
            if db_name in (None, "main") and name in readable.tables:
                return _OK
            if db_name is None and name not in readable.schema and not name.startswith("sqlite_"):
                return _OK
            return _DENY
        if action == sqlite3.SQLITE_FUNCTION:
            return _OK if (arg2 or "").lower() in SQLITE_FUNCTIONS else _DENY
        return _DENY

    return authorize


def make_progress_handler(deadline: float, cancel: threading.Event):
    def progress() -> int:
        return 1 if cancel.is_set() or time.monotonic() > deadline else 0

    return progress


def install_guards(
    conn: sqlite3.Connection, spec: DataSourceSpec, checked: CheckedSQL, deadline: float, cancel: threading.Event
) -> None:
    conn.set_progress_handler(make_progress_handler(deadline, cancel), PROGRESS_STEPS)
    readable = readable_tables(conn, checked.tables)
    conn.set_authorizer(make_authorizer(readable, system_catalogs=spec.allow_system_catalogs))


def classify(exc: Exception, *, deadline: float, cancel: threading.Event) -> Exception:
    """The runner's error for a ``sqlite3`` exception (safe message; driver text only about the query)."""
    message = str(exc)
    lowered = message.lower()
    if "interrupted" in lowered and (cancel.is_set() or time.monotonic() >= deadline):
        return SqlTimeout()
    if any(text in lowered for text in ("not authorized", "authorization denied", "prohibited")):
        return engine_refusal(
            "The data source's guard refused the statement: only reading the allowed tables with "
            "allowed functions is permitted."
        )
    if "readonly" in lowered or "read-only" in lowered:
        return engine_refusal("The data source is read-only: the statement tried to change it.")
    if "one statement at a time" in lowered:
        return engine_refusal("Only one statement can run at a time.")
    if "too big" in lowered:
        return engine_refusal("A value in the query is larger than the data source allows.")
    if any(
        text in lowered
        for text in ("unable to open", "not a database", "disk i/o", "malformed", "locked", "out of memory")
    ):
        logger.warning("SQLite data source unavailable: %s", type(exc).__name__)
        return SourceUnavailable()
    return query_error(message)


def _execute(spec: DataSourceSpec, checked: CheckedSQL, cancel: threading.Event, statement: str, collect) -> object:
    """Open, guard, run ``statement``, ``collect(cursor, deadline)``, close; on a pool thread."""
    started = time.monotonic()
    deadline = started + max(spec.statement_timeout_ms, 1) / 1000
    conn = open_connection(spec)
    try:
        try:
            install_guards(conn, spec, checked, deadline, cancel)
            cursor = conn.execute(statement)
            return collect(cursor, deadline, started)
        except (sqlite3.Error, sqlite3.Warning) as exc:
            raise classify(exc, deadline=deadline, cancel=cancel) from None
    finally:
        conn.close()


def run_sync(spec: DataSourceSpec, checked: CheckedSQL, cancel: threading.Event | None = None) -> QueryResult:
    cancel = cancel or threading.Event()

    def collect(cursor, deadline, started):
        columns = [description[0] for description in cursor.description or ()]
        collector = RowCollector(
            row_cap=spec.row_cap, max_bytes=spec.max_result_bytes, batch_rows=settings.SQL_FETCH_BATCH_ROWS
        )
        if not columns:
            collector.done = True
        while not collector.done:
            collector.add(cursor.fetchmany(collector.next_batch_size()))
            if time.monotonic() > deadline:
                raise SqlTimeout()
        return collector.result(columns=columns, elapsed_ms=(time.monotonic() - started) * 1000)

    return _execute(spec, checked, cancel, checked.sql, collect)


def explain_sync(spec: DataSourceSpec, checked: CheckedSQL, cancel: threading.Event | None = None) -> dict:
    def collect(cursor, deadline, started):
        plan = [{"id": row[0], "parent": row[1], "detail": row[3]} for row in cursor.fetchall()]
        return {"engine": "sqlite", "plan": plan}

    return _execute(spec, checked, cancel or threading.Event(), f"EXPLAIN QUERY PLAN {checked.sql}", collect)


def guarded(spec: DataSourceSpec, breaker, fn, *args):
    """``fn(spec, *args)`` behind the data source's breaker (sync: the caller is a lane thread); the last
    argument is the cancellation event."""
    with breaker.guard(failure_exceptions=(SourceUnavailable,)):
        return fn(spec, *args)


async def in_lane(fn, spec: DataSourceSpec, *args):
    """Run ``fn(spec, *args, cancel)`` on the ``sql`` lane; a cancelled caller stops the statement."""
    cancel = threading.Event()
    future = submit(LANE, fn, spec, *args, cancel)
    try:
        return await asyncio.wrap_future(future)
    except asyncio.CancelledError:
        cancel.set()
        raise


async def run(spec: DataSourceSpec, checked: CheckedSQL) -> QueryResult:
    return await in_lane(run_sync, spec, checked)


async def explain(spec: DataSourceSpec, checked: CheckedSQL) -> dict:
    return await in_lane(explain_sync, spec, checked)
