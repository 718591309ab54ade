"""The SQLite runner (issue 14, layers 5 and 6): hostile statements go DIRECTLY to the runner, bypassing the
gate, and each layer is shown alone stopping what it is meant to stop."""

import asyncio
import json
import sqlite3
import threading
import time
from dataclasses import replace

import pytest

from agent.sql.runners import explain, run, sqlite
from agent.sql.types import SqlError, SqlRefused, SqlTimeout
from majed_vanna import runtime
from majed_vanna.exceptions import ServiceUnavailableError

from .runner_fixtures import *  # noqa: F403 - fixtures (sqlite_source, pg_source, runner_pools)
from .runner_fixtures import ORDERS, build_sqlite, checked, directory_digest, sqlite_spec

DENIED = "not authorized|authorization denied|prohibited"
CROSS_JOIN = "SELECT count(*) FROM numbers a, numbers b, numbers c"
HUGE_VALUE = "SELECT length(replace(printf('%.*c', 4000000, 'x'), 'x', 'xxxxxxxxxx'))"
UNBOUNDED = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"


def _refused(exc_info) -> str:
    assert exc_info.value.rule == "engine_guard"
    assert "sqlite3" not in exc_info.value.message.lower()
    return exc_info.value.message


# --- what it returns -----------------------------------------------------------------------------------


async def test_a_query_returns_columns_rows_and_json_safe_values(sqlite_source):
    spec, _ = sqlite_source
    result = await run(
        spec,
        checked(
            "SELECT o.id, c.name, o.total, o.receipt, c.country FROM orders o JOIN customers c "
            "ON c.id = o.customer_id WHERE o.id IN (1, 2) ORDER BY o.id"
        ),
    )
    assert result.columns == ["id", "name", "total", "receipt", "country"]
    assert result.rows == [[1, "Customer 2", 47.25, "AP8Q", "EG"], [2, "Customer 3", 84.25, None, None]]
    assert (result.row_count, result.truncated, result.notes) == (2, False, [])
    assert result.elapsed_ms > 0


async def test_views_windows_and_recursive_ctes_run(sqlite_source):
    spec, _ = sqlite_source
    view = await run(spec, checked("SELECT count(*) AS n FROM big_orders"))
    assert view.rows[0][0] == sum(1 for order in ORDERS if order[2] > 200)
    window = await run(
        spec, checked("SELECT id, rank() OVER (ORDER BY total DESC) AS r FROM orders ORDER BY r, id LIMIT 1")
    )
    assert window.columns == ["id", "r"] and window.rows[0][1] == 1
    recursive = await run(
        spec,
        checked(
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT sum(n) FROM r",
            tables=(),
        ),
    )
    assert recursive.rows == [[15]]


async def test_row_cap_truncates(sqlite_source, settings):
    settings.SQL_FETCH_BATCH_ROWS = 7
    spec, _ = sqlite_source
    result = await run(replace(spec, row_cap=20), checked("SELECT n FROM numbers ORDER BY n"))
    assert result.rows == [[n] for n in range(1, 21)]
    assert (result.row_count, result.truncated) == (20, True)
    assert "row cap" in result.notes[0]
    exact = await run(replace(spec, row_cap=5), checked("SELECT n FROM numbers WHERE n <= 5"))
    assert (exact.row_count, exact.truncated) == (5, False)


async def test_byte_cap_truncates(sqlite_source):
    spec, _ = sqlite_source
    result = await run(replace(spec, max_result_bytes=300), checked("SELECT id, name FROM customers ORDER BY id"))
    assert result.truncated and 0 < result.row_count < 40
    assert result.rows[0] == [1, "Customer 1"]
    assert len(json.dumps(result.rows, separators=(",", ":"))) <= 300
    assert "300 bytes" in result.notes[0]


async def test_explain_is_a_dry_run(sqlite_source):
    spec, directory = sqlite_source
    before = directory_digest(directory)
    plan = await explain(spec, checked("SELECT * FROM orders WHERE customer_id = 3"))
    assert plan["engine"] == "sqlite" and "orders_customer" in " ".join(step["detail"] for step in plan["plan"])
    with pytest.raises(SqlRefused):
        await explain(spec, checked("DELETE FROM orders"))
    assert directory_digest(directory) == before


# --- each layer alone ----------------------------------------------------------------------------------


def test_mode_ro_alone_refuses_writes_to_the_file_but_not_attach_vacuum_into_temp_triggers_or_pragmas(tmp_path):
    """Why the authorizer exists: a plain ``mode=ro`` connection lets all of these through."""
    path = build_sqlite(tmp_path / "data.sqlite3")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("INSERT INTO numbers VALUES (-1)")
    conn.execute(f"ATTACH DATABASE '{tmp_path / 'attached.db'}' AS side")
    conn.execute("CREATE TABLE side.marker (x)")
    conn.execute(f"VACUUM INTO '{tmp_path / 'copy.db'}'")
    conn.execute("CREATE TEMP TRIGGER t AFTER INSERT ON orders BEGIN SELECT 1; END")
    conn.execute("PRAGMA query_only = 0")
    conn.close()
    assert (tmp_path / "attached.db").exists() and (tmp_path / "copy.db").exists()


def test_query_only_alone_refuses_writes(tmp_path):
    path = build_sqlite(tmp_path / "data.sqlite3")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA query_only = 1")
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("DELETE FROM orders")
    conn.close()


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO numbers VALUES (-1)",
        "UPDATE orders SET total = 0",
        "DELETE FROM orders",
        "DROP TABLE secret",
        "CREATE TABLE marker (x)",
        "ATTACH DATABASE '{dir}/attached.db' AS side",
        "VACUUM INTO '{dir}/copy.db'",
        "CREATE TEMP TRIGGER t AFTER INSERT ON orders BEGIN SELECT 1; END",
        "PRAGMA query_only = 0",
        "PRAGMA writable_schema = 1",
        "ANALYZE",
        "BEGIN IMMEDIATE",
        "SELECT * FROM secret",
        "SELECT count(*) FROM secret",
        "SELECT name FROM sqlite_master",
        "SELECT load_extension('/tmp/x')",
        "SELECT randomblob(100)",
        "SELECT sqlite_version()",
    ],
)
def test_the_authorizer_alone_on_a_writable_connection_denies_all_but_reads(tmp_path, statement):
    path = build_sqlite(tmp_path / "data.sqlite3")
    conn = sqlite3.connect(path, isolation_level=None)
    readable = sqlite.readable_tables(conn, ("customers", "orders", "numbers"))
    conn.set_authorizer(sqlite.make_authorizer(readable, system_catalogs=False))
    assert conn.execute("SELECT count(*) FROM orders").fetchone() == (300,)
    with pytest.raises(sqlite3.DatabaseError, match=DENIED):
        conn.execute(statement.format(dir=tmp_path))
    conn.close()
    assert not (tmp_path / "attached.db").exists() and not (tmp_path / "copy.db").exists()


def test_a_cte_named_like_an_allowed_view_cannot_read_another_table(tmp_path):
    """Reads through a view are allowed by the view's own tables (the engine resolves them), never by the
    name SQLite reports as the reader: a CTE can take any name."""
    path = build_sqlite(tmp_path / "data.sqlite3")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    readable = sqlite.readable_tables(conn, ("big_orders",))
    assert readable.tables == {"big_orders", "orders"}
    conn.set_authorizer(sqlite.make_authorizer(readable, system_catalogs=False))
    assert conn.execute("SELECT count(*) FROM big_orders").fetchone()[0] > 0
    with pytest.raises(sqlite3.DatabaseError, match=DENIED):
        conn.execute("WITH big_orders AS (SELECT * FROM secret) SELECT * FROM big_orders")
    conn.close()


def test_the_progress_handler_alone_interrupts_past_the_deadline(tmp_path):
    path = build_sqlite(tmp_path / "data.sqlite3")
    conn = sqlite3.connect(path)
    started = time.monotonic()
    conn.set_progress_handler(sqlite.make_progress_handler(started + 0.3, threading.Event()), sqlite.PROGRESS_STEPS)
    with pytest.raises(sqlite3.OperationalError, match="interrupted"):
        conn.execute(CROSS_JOIN).fetchall()
    assert time.monotonic() - started < 1.5
    conn.close()


# --- through the runner, bypassing the gate ------------------------------------------------------------

HOSTILE = [
    "INSERT INTO numbers VALUES (-1)",
    "UPDATE orders SET total = 0",
    "DELETE FROM orders",
    "DROP TABLE secret",
    "CREATE TABLE marker (x)",
    "ATTACH DATABASE '{dir}/attached.db' AS side",
    "VACUUM INTO '{dir}/copy.db'",
    "VACUUM",
    "REINDEX",
    "CREATE TEMP TRIGGER t AFTER INSERT ON orders BEGIN SELECT 1; END",
    "CREATE TEMP TABLE scratch (x)",
    "PRAGMA query_only = 0",
    "PRAGMA journal_mode = DELETE",
    "PRAGMA user_version = 7",
    "ANALYZE",
    "BEGIN IMMEDIATE",
    "SELECT 1; DELETE FROM orders",
    "SELECT * FROM secret",
    "SELECT count(*) FROM secret",
    "SELECT token FROM secret UNION SELECT name FROM customers",
    "WITH big_orders AS (SELECT * FROM secret) SELECT * FROM big_orders",
    "SELECT name FROM sqlite_master",
    "SELECT * FROM pragma_table_info('secret')",
    "SELECT load_extension('{dir}/evil')",
    "SELECT randomblob(1000000000)",
    "SELECT zeroblob(1000000000)",
    HUGE_VALUE,
    "SELECT 'a' REGEXP 'a'",
    "SELECT writefile('{dir}/marker.txt', 'x')",
    "SELECT fts3_tokenizer('simple')",
]


async def test_hostile_statements_are_refused_and_the_file_is_unchanged(sqlite_source):
    spec, directory = sqlite_source
    before = directory_digest(directory)
    outcomes = {}
    for statement in HOSTILE:
        sql = statement.format(dir=directory)
        with pytest.raises((SqlRefused, SqlError)) as caught:
            await run(spec, checked(sql))
        outcomes[statement] = type(caught.value).__name__
    assert directory_digest(directory) == before, "the data source changed or a file appeared"
    for name in ("attached.db", "copy.db", "marker.txt"):
        assert not (directory / name).exists()
    # The engine's guard is what refused the writes (not a lucky syntax error).
    assert {outcomes[s] for s in HOSTILE[:17]} == {"SqlRefused"}


async def test_two_statements_are_refused(sqlite_source):
    spec, _ = sqlite_source
    with pytest.raises(SqlRefused) as caught:
        await run(spec, checked("SELECT 1; SELECT 2"))
    assert "one statement" in _refused(caught)


async def test_a_huge_value_is_refused_not_allocated(sqlite_source):
    spec, _ = sqlite_source
    with pytest.raises(SqlRefused) as caught:
        await run(spec, checked(HUGE_VALUE))
    assert "larger than the data source allows" in _refused(caught)


async def test_system_catalogs_only_when_the_source_allows_them(sqlite_source):
    spec, _ = sqlite_source
    statement = checked("SELECT count(*) FROM sqlite_master", tables=("sqlite_master",))
    with pytest.raises(SqlRefused):
        await run(spec, statement)
    allowed = await run(replace(spec, allow_system_catalogs=True), statement)
    assert allowed.rows[0][0] >= 5


@pytest.mark.parametrize("statement", [CROSS_JOIN, UNBOUNDED])
async def test_a_runaway_query_is_stopped_at_the_timeout(sqlite_source, statement):
    spec, _ = sqlite_source
    started = time.monotonic()
    with pytest.raises(SqlTimeout):
        await run(replace(spec, statement_timeout_ms=300), checked(statement))
    assert time.monotonic() - started < 0.3 + 1.5


async def test_a_slow_query_does_not_hold_the_event_loop(sqlite_source):
    spec, _ = sqlite_source
    ticks, gaps = 0, []

    async def ticker():
        nonlocal ticks
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now
            ticks += 1

    task = asyncio.create_task(ticker())
    with pytest.raises(SqlTimeout):
        await asyncio.gather(*(run(replace(spec, statement_timeout_ms=800), checked(CROSS_JOIN)) for _ in range(2)))
    task.cancel()
    assert ticks > 20 and max(gaps) < 0.25, (ticks, max(gaps))


async def test_a_cancelled_caller_stops_the_statement(sqlite_source, settings):
    spec, _ = sqlite_source
    slow = replace(spec, statement_timeout_ms=20_000)
    task = asyncio.create_task(run(slow, checked(CROSS_JOIN)))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The lane's thread is free again soon: a quick query after it does not wait for the 20 s timeout.
    from majed_vanna.blocking import max_workers

    started = time.monotonic()
    await asyncio.gather(*(run(spec, checked("SELECT 1", tables=())) for _ in range(max_workers("sql") + 1)))
    assert time.monotonic() - started < 3


# --- the breaker ---------------------------------------------------------------------------------------


async def test_the_breaker_opens_after_repeated_failures_of_the_source(tmp_path):
    runtime.set_runtime_config_provider(lambda: {"circuit_breaker_failure_threshold": 2})
    missing = sqlite_spec(tmp_path / "missing.sqlite3", id="missing-file")
    for _ in range(2):
        with pytest.raises(SqlError) as caught:
            await run(missing, checked("SELECT 1", tables=()))
        assert caught.value.status_code == 503 and str(tmp_path) not in caught.value.message
    with pytest.raises(ServiceUnavailableError):
        await run(missing, checked("SELECT 1", tables=()))


async def test_a_query_error_or_timeout_does_not_count_towards_the_breaker(sqlite_source):
    runtime.set_runtime_config_provider(lambda: {"circuit_breaker_failure_threshold": 2})
    spec, _ = sqlite_source
    for statement in ("SELECT nope FROM orders", CROSS_JOIN, "DELETE FROM orders"):
        for _ in range(2):
            with pytest.raises((SqlError, SqlRefused, SqlTimeout)):
                await run(replace(spec, statement_timeout_ms=100), checked(statement))
    assert (await run(spec, checked("SELECT 1", tables=()))).rows == [[1]]


async def test_a_query_error_says_what_is_wrong_without_internals(sqlite_source):
    spec, _ = sqlite_source
    with pytest.raises(SqlError) as caught:
        await run(spec, checked("SELECT nope FROM orders"))
    assert caught.value.message == "The data source could not run the query: no such column: nope"
