"""Schema introspection (tables, views, columns, types, keys, row estimates) of both engines."""

import sqlite3

import pytest

from agent.sql.introspect import introspect
from agent.sql.types import SqlError
from majed_vanna.exceptions import ServiceUnavailableError

from .runner_fixtures import *  # noqa: F403 - fixtures (sqlite_source, pg_source, runner_pools)
from .runner_fixtures import directory_digest, requires_postgresql, sqlite_spec


def _by_name(schema: dict) -> dict:
    return {table["name"]: table for table in schema["tables"]}


async def test_sqlite_schema(sqlite_source):
    spec, directory = sqlite_source
    before = directory_digest(directory)
    schema = await introspect(spec)
    tables = _by_name(schema)
    assert schema["engine"] == "sqlite"
    assert sorted(tables) == ["big_orders", "customers", "numbers", "orders", "secret"]
    orders = tables["orders"]
    assert (orders["schema"], orders["kind"], orders["row_estimate"], orders["primary_key"]) == (
        "main",
        "table",
        300,
        ["id"],
    )
    assert [c["name"] for c in orders["columns"]] == ["id", "customer_id", "total", "status", "ordered_at", "receipt"]
    assert orders["columns"][1] == {
        "name": "customer_id",
        "type": "INTEGER",
        "nullable": False,
        "default": None,
        "primary_key": False,
    }
    assert orders["foreign_keys"] == [
        {"columns": ["customer_id"], "references": {"schema": "main", "table": "customers", "columns": ["id"]}}
    ]
    view = tables["big_orders"]
    assert (view["kind"], view["row_estimate"], [c["name"] for c in view["columns"]]) == (
        "view",
        None,
        ["id", "customer_id", "total"],
    )
    assert directory_digest(directory) == before


async def test_sqlite_row_estimates_come_from_analyze_when_it_ran(tmp_path):
    from .runner_fixtures import build_sqlite

    path = build_sqlite(tmp_path / "data.sqlite3")
    conn = sqlite3.connect(path)
    conn.execute("ANALYZE")
    conn.execute("UPDATE sqlite_stat1 SET stat = '12345 1' WHERE tbl = 'numbers'")
    conn.commit()
    conn.close()
    tables = _by_name(await introspect(sqlite_spec(path)))
    assert tables["numbers"]["row_estimate"] == 12345


async def test_a_missing_sqlite_file_counts_towards_the_breaker(tmp_path):
    from majed_vanna import runtime

    runtime.set_runtime_config_provider(lambda: {"circuit_breaker_failure_threshold": 1})
    spec = sqlite_spec(tmp_path / "missing.sqlite3")
    with pytest.raises(SqlError) as caught:
        await introspect(spec)
    assert caught.value.status_code == 503
    with pytest.raises(ServiceUnavailableError):
        await introspect(spec)


@requires_postgresql
@pytest.mark.usefixtures("runner_pools")
async def test_postgresql_schema_shows_what_the_role_may_read(pg_source):
    before = pg_source.digest()
    tables = _by_name(await introspect(pg_source.readonly))
    assert sorted(tables) == ["big_orders", "customers", "numbers", "orders"]  # not private.secret
    orders = tables["orders"]
    assert (orders["schema"], orders["kind"], orders["primary_key"]) == ("public", "table", ["id"])
    assert orders["row_estimate"] == 300
    total = next(c for c in orders["columns"] if c["name"] == "total")
    assert total == {"name": "total", "type": "numeric(10,2)", "nullable": True, "default": None, "primary_key": False}
    assert orders["columns"][0]["primary_key"] is True
    assert orders["foreign_keys"] == [
        {"columns": ["customer_id"], "references": {"schema": "public", "table": "customers", "columns": ["id"]}}
    ]
    assert tables["big_orders"]["kind"] == "view"
    everything = _by_name(await introspect(pg_source.owner))
    assert "secret" in everything
    assert pg_source.digest() == before
