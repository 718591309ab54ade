"""The whole path on the demo data, both engines (issue 14, "Done when"): every hostile statement of
``hostile.py`` is refused by the gate or stopped by the runner within the statement timeout, and afterwards
each data source's digest is unchanged and no marker file exists; every benign query of ``benign.py`` returns
the rows its engine returns when asked directly. The PostgreSQL source logs in as a read-only role made by
``create_readonly_role``'s SQL (CI's second run; skipped with the reason elsewhere)."""

import asyncio
import glob
import os
import sqlite3
import time
from decimal import Decimal

import psycopg
import pytest
from django.conf import settings

from agent import demo
from agent.management.commands.create_readonly_role import as_text, readonly_role_statements, source_url
from agent.sql import gate, runners
from agent.sql.runners.results import json_safe
from agent.sql.types import DataSourceSpec, SqlError, SqlRefused, SqlTimeout

from .benign import BENIGN
from .hostile import HOSTILE
from .runner_fixtures import ON_POSTGRESQL

TIMEOUT_MS = 1_000
MARGIN_S = 3.0
TABLES = list(demo.TABLES)
MARKERS = "/tmp/mv_marker_*"


def _spec(engine: str, url: str) -> DataSourceSpec:
    return DataSourceSpec(
        id=f"e2e-{engine}", name=f"demo {engine}", engine=engine, url=url, statement_timeout_ms=TIMEOUT_MS, row_cap=500
    )


async def _attempt(spec: DataSourceSpec, sql: str) -> tuple[str, float]:
    """What became of one statement: ``gate:<rule>``, ``engine:<rule>``, ``timeout``, ``error``, ``rows``."""
    started = time.monotonic()
    try:
        checked = gate.check(sql, dialect=spec.engine, tables=TABLES)
    except SqlRefused as refused:
        return f"gate:{refused.rule}", time.monotonic() - started
    try:
        result = await runners.run(spec, checked)
    except SqlRefused as refused:
        outcome = f"engine:{refused.rule}"
    except SqlTimeout:
        outcome = "timeout"
    except SqlError:
        outcome = "error"
    else:
        outcome = "truncated" if result.truncated else "rows"
    return outcome, time.monotonic() - started


def _hostile_run(spec: DataSourceSpec, dialect: str) -> list[tuple[str, str, str, float]]:
    async def run_all():
        outcomes = []
        for hostile in HOSTILE:
            if dialect not in hostile.dialects:
                continue
            outcome, seconds = await _attempt(spec, hostile.sql)
            outcomes.append((hostile.expected, hostile.sql, outcome, seconds))
        await runners.close_pools()
        return outcomes

    return asyncio.run(run_all())


def _assert_held(outcomes):
    for expected, sql, outcome, seconds in outcomes:
        assert seconds < TIMEOUT_MS / 1000 + MARGIN_S, f"took {seconds:.1f} s: {sql[:120]}"
        if expected == "gate":
            assert outcome.startswith("gate:"), f"{outcome}: {sql[:120]}"
        else:  # valid read-only SQL: stopped or bounded by the runner, never unbounded
            assert outcome in ("timeout", "truncated", "error", "rows") or outcome.startswith("engine:"), sql[:120]
    assert len(outcomes) >= 150


@pytest.fixture
def demo_sqlite(tmp_path):
    path = tmp_path / "demo.sqlite3"
    digest = demo.build_demo_sqlite(path)
    return _spec("sqlite", f"sqlite:///{path}"), path, digest


def test_every_hostile_statement_is_refused_or_stopped_on_sqlite_and_nothing_changes(demo_sqlite):
    spec, path, digest = demo_sqlite
    markers_before = set(glob.glob(MARKERS))
    files_before = set(os.listdir(path.parent))
    outcomes = _hostile_run(spec, "sqlite")
    _assert_held(outcomes)
    assert demo.sqlite_file_digest(path) == digest
    assert set(glob.glob(MARKERS)) == markers_before, "an attack wrote a marker file"
    assert set(os.listdir(path.parent)) == files_before, "an attack created a file beside the database"


@pytest.fixture(scope="module")
def demo_postgresql():
    if not ON_POSTGRESQL:
        pytest.skip("needs a PostgreSQL server: set DATABASE_URL to one (CI's second run does)")
    db = settings.DATABASES["default"]
    base = {"host": db.get("HOST") or "localhost", "port": db.get("PORT") or 5432, "user": db.get("USER") or "postgres"}
    if db.get("PASSWORD"):
        base["password"] = db["PASSWORD"]
    database, role = f"{db['NAME']}_e2e_{os.getpid()}"[:63], f"{db['NAME']}_e2e_ro_{os.getpid()}"[:63]
    maintenance = psycopg.conninfo.make_conninfo(**base, dbname="postgres")
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'DROP ROLE IF EXISTS "{role}"')
        conn.execute(f'CREATE DATABASE "{database}"')
    admin = psycopg.conninfo.make_conninfo(**base, dbname=database)
    digest, _ = demo.load_demo_postgresql(admin)
    password = "ro-" + os.urandom(12).hex()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            as_text(readonly_role_statements(role=role, password=password, database=database, schemas=["public"]))
        )
    yield _spec("postgresql", source_url(admin, role=role, password=password)), admin, digest
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_every_hostile_statement_is_refused_or_stopped_on_postgresql_and_nothing_changes(demo_postgresql):
    spec, admin, digest = demo_postgresql
    markers_before = set(glob.glob(MARKERS))
    outcomes = _hostile_run(spec, "postgres")
    _assert_held(outcomes)
    with psycopg.connect(admin) as conn:
        assert demo.database_digest(conn) == digest
    assert set(glob.glob(MARKERS)) == markers_before, "an attack wrote a marker file"


def _normalised(rows) -> list[tuple]:
    def value(item):
        item = json_safe(item)
        if isinstance(item, float | Decimal):
            return round(float(item), 4)
        return item

    return sorted((tuple(value(v) for v in row) for row in rows), key=repr)


def _direct_sqlite(path, sql: str):
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def _through_the_path(spec, sql: str):
    async def run():
        result = await runners.run(spec, gate.check(sql, dialect=spec.engine, tables=TABLES))
        await runners.close_pools()
        return result

    return asyncio.run(run())


SQLITE_BENIGN = [b for b in BENIGN if "sqlite" in b.dialects]
POSTGRES_BENIGN = [b for b in BENIGN if "postgres" in b.dialects]


def test_there_are_at_least_thirty_legitimate_queries_per_engine():
    assert len(SQLITE_BENIGN) >= 30 and len(POSTGRES_BENIGN) >= 30


@pytest.mark.parametrize("benign", SQLITE_BENIGN, ids=lambda b: b.name)
def test_legitimate_queries_return_the_engines_own_rows_on_sqlite(demo_sqlite, benign):
    spec, path, _ = demo_sqlite
    result = _through_the_path(spec, benign.sql)
    expected = _direct_sqlite(path, benign.sql)
    assert result.row_count == min(len(expected), spec.row_cap)
    if not result.truncated:
        assert _normalised(result.rows) == _normalised(expected)


@pytest.mark.parametrize("benign", POSTGRES_BENIGN, ids=lambda b: b.name)
def test_legitimate_queries_return_the_engines_own_rows_on_postgresql(demo_postgresql, benign):
    spec, admin, _ = demo_postgresql
    result = _through_the_path(spec, benign.sql)
    with psycopg.connect(admin) as conn:
        expected = conn.execute(benign.sql).fetchall()
    assert result.row_count == min(len(expected), spec.row_cap)
    if not result.truncated:
        assert _normalised(result.rows) == _normalised(expected)
