"""The PostgreSQL runner (issue 14, layers 4 and 6) against a real server: hostile statements go DIRECTLY to
the runner, bypassing the gate. ``pg.readonly`` logs in as a real role made by ``create_readonly_role``'s
SQL; ``pg.owner`` as the administrator (no role protection), to show the runner's other layers alone."""

import asyncio
import time
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from agent.sql.runners import explain, postgresql, run
from agent.sql.types import SqlError, SqlRefused, SqlTimeout
from majed_vanna import runtime
from majed_vanna.exceptions import ServiceUnavailableError
from majed_vanna.tests.servers import closed_port

from .runner_fixtures import *  # noqa: F403 - fixtures (sqlite_source, pg_source, runner_pools)
from .runner_fixtures import ORDERS, checked, requires_postgresql

pytestmark = [requires_postgresql, pytest.mark.usefixtures("runner_pools")]

CROSS_JOIN = "SELECT count(*) FROM numbers a, numbers b, numbers c"


def pg(sql: str, tables=("customers", "orders", "numbers", "big_orders")):
    return checked(sql, tables=tables, dialect="postgres")


def _guard(caught) -> str:
    assert caught.value.rule == "engine_guard", caught.value.message
    return caught.value.message


# --- what it returns -----------------------------------------------------------------------------------


async def test_a_query_returns_json_safe_values(pg_source):
    result = await run(
        pg_source.readonly,
        pg(
            "SELECT o.id, c.name, o.total, o.receipt, c.created_at, o.ordered_at, interval '90 minutes' AS d, "
            "'NaN'::numeric AS nan, ARRAY[1, 2] AS a, '{\"k\": [1]}'::jsonb AS j, "
            "'00000000-0000-0000-0000-000000000001'::uuid AS u "
            "FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = 1"
        ),
    )
    assert result.columns == ["id", "name", "total", "receipt", "created_at", "ordered_at", "d", "nan", "a", "j", "u"]
    row = result.rows[0]
    assert row[:5] == [1, "Customer 2", 47.25, "AP8Q", "2024-01-03"]
    assert row[5].startswith("2024-02-02T10:00:00")
    assert row[6:] == [5400.0, "NaN", [1, 2], {"k": [1]}, "00000000-0000-0000-0000-000000000001"]
    assert (result.row_count, result.truncated) == (1, False)


async def test_analytic_queries_run_through_the_read_only_role(pg_source):
    result = await run(
        pg_source.readonly,
        pg(
            "WITH s AS (SELECT status, sum(total) AS t FROM orders GROUP BY status) "
            "SELECT status, t, rank() OVER (ORDER BY t DESC) FROM s ORDER BY status"
        ),
    )
    expected = {}
    for order in ORDERS:
        expected[order[3]] = round(expected.get(order[3], 0) + order[2], 2)
    assert {row[0]: row[1] for row in result.rows} == expected
    view = await run(pg_source.readonly, pg("SELECT count(*) FROM big_orders"))
    assert view.rows == [[sum(1 for order in ORDERS if order[2] > 200)]]


async def test_row_cap_and_batches(pg_source, settings):
    settings.SQL_FETCH_BATCH_ROWS = 7
    result = await run(replace(pg_source.readonly, row_cap=20), pg("SELECT n FROM numbers ORDER BY n"))
    assert result.rows == [[n] for n in range(1, 21)] and result.truncated and "row cap" in result.notes[0]
    exact = await run(replace(pg_source.readonly, row_cap=5), pg("SELECT n FROM numbers WHERE n <= 5 ORDER BY n"))
    assert (exact.rows, exact.truncated) == ([[1], [2], [3], [4], [5]], False)


async def test_byte_cap_truncates(pg_source):
    result = await run(
        replace(pg_source.readonly, max_result_bytes=300), pg("SELECT id, name FROM customers ORDER BY id")
    )
    assert result.truncated and 0 < result.row_count < 40 and "300 bytes" in result.notes[0]


async def test_explain_is_a_dry_run(pg_source):
    before = pg_source.digest()
    plan = await explain(pg_source.readonly, pg("SELECT * FROM orders WHERE customer_id = 3"))
    assert plan["engine"] == "postgresql" and plan["total_cost"] > 0 and "Plan" in plan["plan"][0]
    assert pg_source.digest() == before


# --- each layer alone ----------------------------------------------------------------------------------


def test_the_role_alone_cannot_write_read_server_files_or_leave_read_only(pg_source):
    """A plain connection as the role, outside the runner: even in a READ WRITE transaction it may not write."""
    with psycopg.connect(pg_source.readonly.url, autocommit=True) as conn:
        assert conn.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() == (False,)
        for statement in (
            "INSERT INTO numbers VALUES (-1)",
            "UPDATE orders SET total = 0",
            "DELETE FROM customers",
            "CREATE TABLE public.marker (x int)",
            "SELECT * FROM private.secret",
            "SELECT pg_read_file('/etc/hostname')",
            "COPY numbers TO '/tmp/mv_runner_marker'",
            "SELECT lo_import('/etc/hostname')",
            "SELECT nextval('counter')",
            "SELECT evil_insert()",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("BEGIN READ WRITE")
                try:
                    conn.execute(statement)
                finally:
                    conn.execute("ROLLBACK")


async def test_the_read_only_transaction_alone_stops_writes_a_select_makes(pg_source):
    """As the administrator (whom no grant stops), a SELECT that writes is refused by ``BEGIN READ ONLY``."""
    before = pg_source.digest()
    for statement in ("SELECT evil_insert()", "SELECT nextval('counter')", "SELECT setval('counter', 9)"):
        with pytest.raises(SqlRefused) as caught:
            await run(pg_source.owner, pg(statement))
        assert "read-only" in _guard(caught)
    assert pg_source.digest() == before


async def test_prepare_alone_refuses_two_statements(pg_source):
    """Sent as a prepared statement the server refuses two statements; a plain execute runs them both."""
    with psycopg.connect(pg_source.admin_url, autocommit=True) as conn:
        cursor = conn.execute("SELECT 1; SELECT 2")
        assert cursor.fetchone() == (1,) and cursor.nextset() and cursor.fetchone() == (2,)
        with pytest.raises(psycopg.errors.SyntaxError, match="multiple commands"):
            conn.execute("SELECT 1; SELECT 2", prepare=True)
    before = pg_source.digest()
    with pytest.raises(SqlRefused) as caught:
        await run(pg_source.owner, pg("SELECT 1; DROP TABLE numbers"))
    assert "one statement" in _guard(caught)
    assert pg_source.digest() == before


async def test_prepare_is_not_silently_off(pg_source):
    """psycopg ignores ``prepare=True`` when ``prepare_threshold`` is None: the pool must not set it."""
    pool = await postgresql.pool_for(pg_source.owner)
    async with pool.connection() as conn:
        assert conn.prepare_threshold is not None


async def test_the_cursor_alone_accepts_only_a_query(pg_source):
    before = pg_source.digest()
    for statement in (
        "INSERT INTO numbers VALUES (-1)",
        "WITH d AS (DELETE FROM numbers RETURNING n) SELECT * FROM d",
        "SELECT 1 INTO marker",
        "COPY (SELECT 1) TO '/tmp/mv_runner_marker'",
        "CREATE TABLE marker (x int)",
        "SET ROLE postgres",
        "SET TRANSACTION READ WRITE",
        "COMMIT",
    ):
        with pytest.raises((SqlRefused, SqlError)):
            await run(pg_source.owner, pg(statement))
    assert pg_source.digest() == before
    assert not Path("/tmp/mv_runner_marker").exists()


@pytest.mark.parametrize("statement", ["SELECT pg_sleep(10)", CROSS_JOIN])
async def test_the_statement_timeout_stops_a_slow_query(pg_source, statement):
    started = time.monotonic()
    with pytest.raises(SqlTimeout):
        await run(replace(pg_source.readonly, statement_timeout_ms=500), pg(statement))
    assert time.monotonic() - started < 0.5 + 1.5


async def test_the_timeout_covers_every_batch(pg_source, settings):
    """Each FETCH is its own statement: the later ones get only what is left of the timeout."""
    settings.SQL_FETCH_BATCH_ROWS = 1
    started = time.monotonic()
    with pytest.raises(SqlTimeout):
        await run(
            replace(pg_source.readonly, statement_timeout_ms=800),
            pg("SELECT n, pg_sleep(0.3) FROM numbers WHERE n <= 6"),
        )
    assert time.monotonic() - started < 0.8 + 1.0


async def test_the_cost_guard_refuses_an_expensive_plan_before_running_it(pg_source, settings):
    settings.SQL_MAX_PLAN_COST = 10_000
    started = time.monotonic()
    with pytest.raises(SqlRefused) as caught:
        await run(pg_source.readonly, pg(CROSS_JOIN))
    assert caught.value.rule == "cost" and time.monotonic() - started < 1
    assert (await run(pg_source.readonly, pg("SELECT count(*) FROM orders"))).rows == [[300]]


# --- connections ---------------------------------------------------------------------------------------


async def test_a_connection_is_discarded_after_an_error_and_reused_after_a_success(pg_source, settings):
    settings.SQL_POOL_MAX_SIZE = 1
    spec = replace(pg_source.readonly, id="pg-discard")
    pid = "SELECT pg_backend_pid()"
    first = (await run(spec, pg(pid))).rows[0][0]
    assert (await run(spec, pg(pid))).rows[0][0] == first
    with pytest.raises(SqlError):
        await run(spec, pg("SELECT 1 / (n - n) FROM numbers"))
    after_error = (await run(spec, pg(pid))).rows[0][0]
    assert after_error != first
    with pytest.raises(SqlTimeout):
        await run(replace(spec, statement_timeout_ms=200), pg("SELECT pg_sleep(5)"))
    assert (await run(spec, pg(pid))).rows[0][0] not in (first, after_error)


async def test_a_cancelled_query_is_cancelled_on_the_server(pg_source, settings):
    settings.SQL_POOL_MAX_SIZE = 1
    spec = replace(pg_source.readonly, id="pg-cancel", statement_timeout_ms=20_000)
    task = asyncio.create_task(run(spec, pg("SELECT pg_sleep(20)")))
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with psycopg.connect(pg_source.admin_url, autocommit=True) as conn:
        for _ in range(30):
            running = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(20)%' AND state = 'active' "
                "AND pid <> pg_backend_pid()"
            ).fetchone()[0]
            if not running:
                break
            time.sleep(0.1)
    assert running == 0


async def test_a_session_lock_taken_by_a_query_does_not_outlive_it(pg_source):
    await run(pg_source.readonly, pg("SELECT pg_advisory_lock(4242)", tables=()))
    with psycopg.connect(pg_source.admin_url, autocommit=True) as conn:
        held = conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242").fetchone()
    assert held == (0,)


async def test_session_settings_a_query_changes_do_not_outlive_it(pg_source, settings):
    settings.SQL_POOL_MAX_SIZE = 1
    spec = replace(pg_source.readonly, id="pg-settings")
    await run(
        spec,
        pg(
            "SELECT set_config('default_transaction_read_only', 'off', false), "
            "set_config('statement_timeout', '0', false)",
            tables=(),
        ),
    )
    after = await run(
        spec,
        pg(
            "SELECT current_setting('default_transaction_read_only'), current_setting('transaction_read_only')",
            tables=(),
        ),
    )
    assert after.rows == [["on", "on"]]


async def test_a_changed_url_gets_a_new_pool(pg_source):
    first = await postgresql.pool_for(pg_source.readonly)
    assert await postgresql.pool_for(pg_source.readonly) is first
    moved = replace(pg_source.readonly, url=pg_source.readonly.url + "?application_name=moved")
    second = await postgresql.pool_for(moved)
    assert second is not first and postgresql.pool_count() == 1
    assert (await run(moved, pg("SELECT current_setting('application_name')"))).rows == [["majed-vanna-agent"]]


async def test_the_breaker_opens_after_repeated_failures_of_the_source(settings):
    settings.SQL_POOL_TIMEOUT_SECONDS = 0.3
    runtime.set_runtime_config_provider(lambda: {"circuit_breaker_failure_threshold": 2})
    from agent.sql.types import DataSourceSpec

    down = DataSourceSpec(
        id="pg-down", name="down", engine="postgresql", url=f"postgresql://u:secret-pw@127.0.0.1:{closed_port()}/x"
    )
    for _ in range(2):
        with pytest.raises(SqlError) as caught:
            await run(down, pg("SELECT 1"))
        assert caught.value.status_code == 503 and "secret-pw" not in caught.value.message
    with pytest.raises(ServiceUnavailableError):
        await run(down, pg("SELECT 1"))


async def test_slow_queries_do_not_hold_the_event_loop(pg_source):
    gaps = []

    async def ticker():
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            gaps.append(time.monotonic() - last)
            last = time.monotonic()

    task = asyncio.create_task(ticker())
    await asyncio.gather(*(run(pg_source.readonly, pg("SELECT pg_sleep(0.8)", tables=())) for _ in range(3)))
    task.cancel()
    assert len(gaps) > 20 and max(gaps) < 0.25


# --- the hostile run -----------------------------------------------------------------------------------

MARKER = "/tmp/mv_runner_pg_marker"
HOSTILE = [
    "INSERT INTO numbers VALUES (-1)",
    "UPDATE orders SET total = 0",
    "DELETE FROM customers",
    "TRUNCATE numbers",
    "DROP TABLE numbers",
    "CREATE TABLE marker (x int)",
    "CREATE TEMP TABLE marker (x int)",
    "ALTER TABLE numbers ADD COLUMN x int",
    "GRANT ALL ON numbers TO PUBLIC",
    "SELECT 1; DELETE FROM numbers",
    "SELECT 1; COMMIT; DELETE FROM numbers",
    "COMMIT; DELETE FROM numbers",
    "SET TRANSACTION READ WRITE; DELETE FROM numbers",
    "WITH d AS (DELETE FROM numbers RETURNING n) SELECT * FROM d",
    "SELECT * INTO marker FROM numbers",
    f"COPY numbers TO '{MARKER}'",
    f"COPY (SELECT 1) TO PROGRAM 'touch {MARKER}'",
    "SELECT evil_insert()",
    "SELECT nextval('counter')",
    "SELECT setval('counter', 99)",
    "SELECT * FROM private.secret",
    "SELECT pg_read_file('/etc/hostname')",
    "SELECT pg_ls_dir('/')",
    f"SELECT lo_export(lo_from_bytea(0, 'x'), '{MARKER}')",
    "SELECT lo_import('/etc/hostname')",
    "SELECT set_config('role', 'postgres', false)",
    "SET ROLE postgres",
    "RESET ALL",
    "SELECT pg_terminate_backend(pg_backend_pid())",
    "SELECT * FROM numbers FOR UPDATE",
    "LOCK TABLE numbers",
    "DO $$ BEGIN DELETE FROM numbers; END $$",
    "VACUUM numbers",
    "NOTIFY mv, 'x'",
    "LISTEN mv",
    "PREPARE p AS DELETE FROM numbers",
    "SELECT pg_sleep(10)",
    CROSS_JOIN,
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
    "SELECT count(*) FROM generate_series(1, 1000000000)",
]


async def test_hostile_statements_through_the_read_only_role_change_nothing(pg_source):
    before = pg_source.digest()
    spec = replace(pg_source.readonly, statement_timeout_ms=500)
    for statement in HOSTILE:
        started = time.monotonic()
        with pytest.raises((SqlRefused, SqlError, SqlTimeout)):
            await run(spec, pg(statement))
        assert time.monotonic() - started < 0.5 + 1.5, statement
    assert pg_source.digest() == before, "the data source changed"
    assert not Path(MARKER).exists()
    # The same statements as the administrator: the runner's own layers hold without the role's help.
    for statement in HOSTILE:
        if any(
            name in statement
            for name in ("pg_terminate_backend", "pg_read_file", "pg_ls_dir", "private.", "lo_", "set_config")
        ):
            # What only privileges stop: a superuser may read and write server files even in a read-only
            # transaction. That is the role's job (and the gate's), not the runner's.
            continue
        with pytest.raises((SqlRefused, SqlError, SqlTimeout)):
            await run(replace(pg_source.owner, statement_timeout_ms=500), pg(statement))
    assert pg_source.digest() == before, "the data source changed"
    assert not Path(MARKER).exists()
