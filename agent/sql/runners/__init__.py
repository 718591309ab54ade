"""The one way agent SQL reaches a data source, after the gate (issue 14, layers 4-6; contract §5 "Agent").

::

    result = await run(spec, checked)        # QueryResult: columns, rows, row_count, truncated, elapsed_ms
    plan = await explain(spec, checked)      # dry run: PostgreSQL EXPLAIN (FORMAT JSON), SQLite EXPLAIN QUERY PLAN

Both are async and never block the event loop: PostgreSQL through pooled async connections
(``postgresql``), SQLite on the bounded ``sql`` thread lane (``sqlite``). They raise ``SqlTimeout`` (the
source's statement timeout), ``SqlRefused`` with rule ``engine_guard`` (the engine's own guard refused:
read-only transaction or role, the SQLite authorizer, two statements) or ``cost`` (PostgreSQL cost guard),
``SqlError`` (safe message) and, while the data source's breaker is open, ``ServiceUnavailableError``.

Each data source has a circuit breaker, ``data_source:<id>`` (threshold and timeout from the runtime
configuration, state in the shared cache). Only the source's own failures count (unreachable, refusing
logins, out of resources: ``SourceUnavailable``); a query's timeout or error does not, so one person's
slow query cannot close the data source for everyone.

Values are JSON-safe (``results``: dates as ISO strings, ``Decimal`` as ``float``, bytes as base64).
"""

from agent.sql.types import CheckedSQL, DataSourceSpec, QueryResult, SqlError
from majed_vanna.circuit_breakers import CircuitBreaker, get_breaker

from . import postgresql, sqlite
from .errors import SourceUnavailable

__all__ = ["SourceUnavailable", "breaker_for", "close_pools", "engine_module", "explain", "run"]


def engine_module(spec: DataSourceSpec):
    if spec.engine == "postgresql":
        return postgresql
    if spec.engine == "sqlite":
        return sqlite
    raise SqlError("The data source's engine is not supported")


def breaker_for(spec: DataSourceSpec) -> CircuitBreaker:
    return get_breaker(f"data_source:{spec.id}")


async def run(spec: DataSourceSpec, checked: CheckedSQL) -> QueryResult:
    return await _guarded(spec, "run", checked)


async def explain(spec: DataSourceSpec, checked: CheckedSQL) -> dict:
    return await _guarded(spec, "explain", checked)


async def _guarded(spec: DataSourceSpec, action: str, checked: CheckedSQL):
    engine = engine_module(spec)
    breaker = breaker_for(spec)
    if engine is sqlite:  # already on a pool thread: the breaker's cache calls go there too (one hop, not three)
        return await sqlite.in_lane(sqlite.guarded, spec, breaker, getattr(sqlite, f"{action}_sync"), checked)
    async with breaker.aguard(failure_exceptions=(SourceUnavailable,)):
        return await getattr(engine, action)(spec, checked)


async def close_pools() -> None:
    """Close the PostgreSQL pools of the running event loop (shutdown, tests)."""
    await postgresql.close_pools()
