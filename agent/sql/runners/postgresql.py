"""PostgreSQL execution (issue 14, layers 4 and 6): async, pooled, read-only by several independent means.

* The data source's URL logs in as a dedicated low-privilege role (``manage.py create_readonly_role``:
  SELECT-only grants, ``default_transaction_read_only``, no superuser, no server-file roles).
* Every connection starts its sessions read-only (``default_transaction_read_only`` in the startup
  options), and every run is ``BEGIN READ ONLY`` with ``SET LOCAL statement_timeout`` and
  ``idle_in_transaction_session_timeout``, ended by ``ROLLBACK``.
* The statement is sent as a prepared statement (``prepare=True``: the extended protocol, so the server
  refuses a string with two statements; a plain ``execute`` would run them all) inside
  ``DECLARE ... NO SCROLL CURSOR FOR``: PostgreSQL only accepts a SELECT or VALUES there, and no
  data-modifying CTE. Rows come ``FETCH``-ed in batches, so a huge result is never read whole: at most
  the row cap plus one and the byte cap. Each later batch gets what remains of the timeout.
* Optional cost guard: with ``SQL_MAX_PLAN_COST`` > 0, a statement whose ``EXPLAIN (FORMAT JSON)`` total
  cost is above it is refused (rule ``cost``) before it runs.
* Connections come from a ``psycopg_pool.AsyncConnectionPool`` per data source and event loop (bounded by
  ``SQL_POOL_MAX_SIZE``, keyed by the source's id and a hash of its URL, so a changed URL gets a new pool),
  so a waiting query holds no thread. A connection that saw any error, a timeout or a cancellation is
  cancelled server-side and closed, never handed back as healthy.

Do not set ``prepare_threshold=None`` on these connections: psycopg then ignores ``prepare=True`` and
sends the statement with the simple protocol, which runs several statements (a test guards this).
"""

import asyncio
import atexit
import contextlib
import hashlib
import json
import logging
import os
import time
import weakref

import psycopg
from django.conf import settings
from psycopg import pq
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from agent.sql.types import CheckedSQL, DataSourceSpec, QueryResult, SqlRefused, SqlTimeout
from majed_vanna.exceptions import ApplicationError

from .errors import COST, SourceUnavailable, engine_refusal, query_error
from .results import RowCollector

logger = logging.getLogger(__name__)

CURSOR = "mv_agent_query"
BACKSTOP_SECONDS = 2.0  # beyond the server's statement timeout, the client gives up on its own
APPLICATION_NAME = "majed-vanna-agent"
# Session-level advisory locks are the one thing a read-only SELECT can leave behind on a connection (its
# session settings are rolled back with the transaction): release them before the connection goes back.
END = "ROLLBACK; SELECT pg_advisory_unlock_all()"

_pools: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, tuple[str, AsyncConnectionPool]]]" = (
    weakref.WeakKeyDictionary()
)
_closing: set[asyncio.Task] = set()
_locks: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]" = weakref.WeakKeyDictionary()


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def _new_pool(spec: DataSourceSpec) -> AsyncConnectionPool:
    return AsyncConnectionPool(
        spec.url,
        min_size=0,
        max_size=max(1, int(settings.SQL_POOL_MAX_SIZE)),
        timeout=float(settings.SQL_POOL_TIMEOUT_SECONDS),
        open=False,
        name=f"data_source:{spec.id}",
        kwargs={
            "autocommit": True,
            "connect_timeout": max(1, int(settings.SQL_CONNECT_TIMEOUT_SECONDS)),
            "application_name": APPLICATION_NAME,
            "options": "-c default_transaction_read_only=on",
        },
    )


async def pool_for(spec: DataSourceSpec) -> AsyncConnectionPool:
    """This event loop's pool for ``spec`` (a new one when its URL changed; the old one is closed)."""
    loop = asyncio.get_running_loop()
    key = url_key(spec.url)
    pools = _pools.setdefault(loop, {})
    entry = pools.get(spec.id)
    if entry and entry[0] == key:
        return entry[1]
    lock = _locks.setdefault(loop, asyncio.Lock())
    async with lock:
        entry = pools.get(spec.id)
        if entry and entry[0] == key:
            return entry[1]
        pool = _new_pool(spec)
        await pool.open(wait=False)
        pools[spec.id] = (key, pool)
    if entry:  # the old URL's pool: closed in the background (its connections may still be busy)
        task = loop.create_task(_close_quietly(entry[1]))
        _closing.add(task)
        task.add_done_callback(_closing.discard)
    return pool


async def _close_quietly(pool: AsyncConnectionPool) -> None:
    with contextlib.suppress(Exception):
        await pool.close(timeout=5)


async def close_pools() -> None:
    """Close this event loop's pools (at shutdown, and between tests)."""
    pools = _pools.pop(asyncio.get_running_loop(), {})
    for _, pool in pools.values():
        await _close_quietly(pool)


def pool_count() -> int:
    """Pools open in this event loop (tests)."""
    return len(_pools.get(asyncio.get_running_loop(), {}))


def classify(exc: Exception) -> Exception:
    """The runner's error for a driver exception: safe words; the server's one-line reason only for the
    query's own faults (data and syntax classes), never for connection or server trouble."""
    if isinstance(exc, PoolTimeout):
        return SourceUnavailable()
    state = getattr(exc, "sqlstate", None) or ""
    diag = getattr(exc, "diag", None)
    primary = (diag.message_primary if diag else None) or ""
    if state == "57014":
        return SqlTimeout()
    if state == "25006":
        return engine_refusal("The data source is read-only: the statement tried to change it.")
    if state == "42501":
        return engine_refusal("The data source's read-only role may not do that.")
    if state == "42601" and "multiple commands" in primary:
        return engine_refusal("Only one statement can run at a time.")
    if state == "0A000" or (state == "42601" and "not allowed here" in primary):
        return engine_refusal("Only a query that reads data can run.")
    if state[:2] in ("22", "42", "21", "2F", "39", "54"):
        return query_error(primary)
    if not state or state[:2] in ("08", "28", "53", "57", "58", "XX", "3D"):
        logger.warning("PostgreSQL data source unavailable: %s %s", type(exc).__name__, state or "-")
        return SourceUnavailable()
    return query_error(None)


async def _checkout(pool: AsyncConnectionPool) -> psycopg.AsyncConnection:
    try:
        return await pool.getconn()
    except (PoolTimeout, psycopg.Error) as exc:
        raise classify(exc) from None


async def _discard(conn: psycopg.AsyncConnection) -> None:
    """Stop whatever the connection still runs on the server, then close it (the pool replaces it)."""
    with contextlib.suppress(Exception):
        if conn.info.transaction_status == pq.TransactionStatus.ACTIVE:
            await asyncio.wait_for(conn.cancel_safe(timeout=2), 3)
    with contextlib.suppress(Exception):
        await conn.close()


async def _begin(conn: psycopg.AsyncConnection, timeout_ms: int) -> None:
    idle_ms = timeout_ms + 5_000
    await conn.execute(
        f"BEGIN READ ONLY; SET LOCAL statement_timeout = {timeout_ms}; "
        f"SET LOCAL idle_in_transaction_session_timeout = {idle_ms}; SET LOCAL cursor_tuple_fraction = 1"
    )


@contextlib.asynccontextmanager
async def session(spec: DataSourceSpec):
    """A pooled connection inside ``BEGIN READ ONLY`` with the source's timeouts; rolled back and returned
    after, or cancelled and closed after any error, timeout or cancellation. Driver errors come out as the
    runner's errors. Yields ``(connection, deadline)`` (a ``time.monotonic()`` value)."""
    timeout_ms = max(1, int(spec.statement_timeout_ms))
    pool = await pool_for(spec)
    conn = await _checkout(pool)
    deadline = time.monotonic() + timeout_ms / 1000
    healthy = False
    try:
        try:
            async with asyncio.timeout(timeout_ms / 1000 + BACKSTOP_SECONDS):
                await _begin(conn, timeout_ms)
                yield conn, deadline
                await conn.execute(END)
            healthy = True
        except ApplicationError:
            if conn.info.transaction_status == pq.TransactionStatus.INTRANS:
                with contextlib.suppress(psycopg.Error):
                    await conn.execute("ROLLBACK")
                    healthy = True
            raise
        except psycopg.Error as exc:
            raise classify(exc) from None
        except TimeoutError:
            raise SqlTimeout() from None
    finally:
        if not healthy:
            await _discard(conn)
        await pool.putconn(conn)


async def _plan(conn: psycopg.AsyncConnection, sql: str) -> list:
    cursor = await conn.execute(f"EXPLAIN (FORMAT JSON) {sql}", prepare=True)
    row = await cursor.fetchone()
    plan = row[0] if row else []
    return json.loads(plan) if isinstance(plan, str) else plan


def _total_cost(plan: list) -> float:
    try:
        return float(plan[0]["Plan"]["Total Cost"])
    except (IndexError, KeyError, TypeError, ValueError):
        return 0.0


async def _cost_guard(conn: psycopg.AsyncConnection, sql: str) -> None:
    ceiling = float(getattr(settings, "SQL_MAX_PLAN_COST", 0) or 0)
    if ceiling <= 0:
        return
    cost = _total_cost(await _plan(conn, sql))
    if cost > ceiling:
        raise SqlRefused(
            COST,
            f"The query would cost too much to run (estimated {cost:.0f}, the limit is {ceiling:.0f}); "
            "narrow it down (filters, fewer joins).",
        )


async def _fetch(cursor: psycopg.AsyncCursor, size: int, deadline: float, first: bool) -> list:
    if first:
        await cursor.execute(f"FETCH FORWARD {size} FROM {CURSOR}")
    else:  # each statement has its own timeout: give this one only what is left
        left_ms = int((deadline - time.monotonic()) * 1000)
        if left_ms <= 0:
            raise SqlTimeout()
        await cursor.execute(f"SET LOCAL statement_timeout = {left_ms}; FETCH FORWARD {size} FROM {CURSOR}")
        cursor.nextset()
    return await cursor.fetchall()


async def run(spec: DataSourceSpec, checked: CheckedSQL) -> QueryResult:
    started = time.monotonic()
    collector = RowCollector(
        row_cap=spec.row_cap, max_bytes=spec.max_result_bytes, batch_rows=settings.SQL_FETCH_BATCH_ROWS
    )
    async with session(spec) as (conn, deadline):
        await _cost_guard(conn, checked.sql)
        cursor = conn.cursor()
        await cursor.execute(f"DECLARE {CURSOR} NO SCROLL CURSOR FOR {checked.sql}", prepare=True)
        columns: list[str] | None = None
        while not collector.done:
            batch = await _fetch(cursor, collector.next_batch_size(), deadline, first=columns is None)
            if columns is None:
                columns = [column.name for column in cursor.description or ()]
            collector.add(batch)
    return collector.result(columns=columns or [], elapsed_ms=(time.monotonic() - started) * 1000)


async def explain(spec: DataSourceSpec, checked: CheckedSQL) -> dict:
    async with session(spec) as (conn, _deadline):
        plan = await _plan(conn, checked.sql)
    return {"engine": "postgresql", "plan": plan, "total_cost": _total_cost(plan)}


def _forget_in_child() -> None:
    _pools.clear()  # the parent's connections are not this process's to use
    _locks.clear()


def _close_at_exit() -> None:
    """Close the pools of event loops that still exist and are idle (the process is ending)."""
    for loop, pools in list(_pools.items()):
        if loop.is_closed() or loop.is_running():
            continue
        for _, pool in pools.values():
            with contextlib.suppress(Exception):
                loop.run_until_complete(_close_quietly(pool))
    _pools.clear()


atexit.register(_close_at_exit)
os.register_at_fork(after_in_child=_forget_in_child)
