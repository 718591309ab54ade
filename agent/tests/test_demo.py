"""The demo data: deterministic, shaped like real sales, the same rows on SQLite and PostgreSQL, registered as
data sources by ``seed_demo`` and ``load_demo_data`` (idempotent)."""

import os
import sqlite3
from collections import Counter
from decimal import Decimal

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from agent import demo, selectors
from agent.models import DataSource

# Pinned: a change to the generator changes every saved question, eval and memory written against the demo.
DEMO_DIGEST = "ebb74f8d7be38d4b35d36df9765cdac724699b29f1dfce0267b4c82d8fc53ae3"


def test_the_rows_are_the_same_on_every_run():
    assert demo.expected_digest() == DEMO_DIGEST
    demo.demo_rows.cache_clear()
    assert demo.rows_digest(demo.demo_rows()) == DEMO_DIGEST


def test_the_tables_and_columns_the_contract_lists(tmp_path):
    path = tmp_path / "demo.sqlite3"
    demo.build_demo_sqlite(path)
    with sqlite3.connect(path) as conn:
        columns = {
            table: [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
            for table in ("customers", "products", "employees", "orders", "order_items")
        }
    assert columns == {
        "customers": ["id", "name", "email", "country", "created_at"],
        "products": ["id", "name", "category", "price"],
        "employees": ["id", "name", "department", "salary", "hired_at"],
        "orders": ["id", "customer_id", "employee_id", "status", "total", "ordered_at"],
        "order_items": ["id", "order_id", "product_id", "quantity", "price"],
    }


def test_several_thousand_orders_over_two_years():
    rows = demo.demo_rows()
    assert {table: len(rows[table]) for table in ("customers", "employees", "orders")} == {
        "customers": 800,
        "employees": 30,
        "orders": 6000,
    }
    assert len(rows["products"]) >= 50 and len(rows["order_items"]) > len(rows["orders"])
    years = Counter(order[5].year for order in rows["orders"])
    assert set(years) == {2023, 2024} and years[2024] > years[2023] * 1.15  # growth into the second year


def test_sales_are_skewed_like_real_sales():
    orders = demo.demo_rows()["orders"]
    per_customer = Counter(order[1] for order in orders)
    top10 = sum(count for _, count in per_customer.most_common(10))
    assert 0.15 < top10 / len(orders) < 0.45  # a few big customers
    months = Counter(order[5].month for order in orders)
    assert months[12] > 1.5 * months[2] and months[11] > 1.4 * months[7]  # seasonal peaks
    statuses = Counter(order[3] for order in orders)
    assert set(statuses) == {"pending", "shipped", "delivered", "cancelled"}
    assert statuses["delivered"] > 0.8 * len(orders) and statuses["cancelled"] > 0.03 * len(orders)


def test_totals_add_up_and_customers_join_before_they_order():
    rows = demo.demo_rows()
    lines = Counter()
    for _, order_id, _, quantity, price in rows["order_items"]:
        lines[order_id] += price * quantity
    assert all(order[4] == lines[order[0]].quantize(Decimal("0.01")) for order in rows["orders"])
    joined = {customer[0]: customer[4] for customer in rows["customers"]}
    assert all(joined[order[1]] < order[5] for order in rows["orders"])


def test_some_nulls_and_odd_names():
    rows = demo.demo_rows()
    assert 0 < sum(customer[2] is None for customer in rows["customers"]) < 100  # customers without an email
    assert 0 < sum(order[2] is None for order in rows["orders"]) < 3000  # web orders without a salesperson
    names = " ".join(customer[1] for customer in rows["customers"]) + " ".join(p[1] for p in rows["products"])
    assert "'" in names and '"' in names and any(ord(char) > 127 for char in names)


def test_the_sqlite_file_holds_exactly_the_rows(tmp_path):
    path = tmp_path / "demo.sqlite3"
    assert demo.build_demo_sqlite(path) == DEMO_DIGEST
    assert demo.sqlite_file_digest(path) == DEMO_DIGEST
    assert not [name for name in os.listdir(tmp_path) if name != "demo.sqlite3"]  # no partial file left behind


@pytest.mark.django_db
def test_seed_demo_builds_the_file_once_and_registers_the_default_source(own_data_dir, capsys):
    path = own_data_dir / "demo.sqlite3"
    call_command("seed_demo")
    assert "Built the demo database" in capsys.readouterr().out
    assert demo.sqlite_file_digest(path) == DEMO_DIGEST
    source = DataSource.objects.get()
    assert (source.name, source.engine, source.is_default) == ("demo", "sqlite", True)
    assert selectors.data_source_url(source) == f"sqlite:///{path.resolve()}"
    built_at = path.stat().st_mtime_ns
    call_command("seed_demo")
    assert "already exists; unchanged" in capsys.readouterr().out
    assert path.stat().st_mtime_ns == built_at and DataSource.objects.count() == 1


@pytest.mark.django_db
def test_seed_demo_keeps_a_configured_data_source_the_default(own_data_dir, admin):
    from config_api.services import config_update

    config_update(actor=admin, changes={"data_source_url": "postgresql://reader:pw@db.example.com/shop"})
    call_command("seed_demo")
    default = DataSource.objects.get(is_default=True)
    assert default.name == "default" and default.engine == "postgresql"
    assert DataSource.objects.get(name="demo").is_default is False


# --- PostgreSQL: the same rows


def _server_url(database: str) -> str:
    settings = connection.settings_dict
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    host, port = settings["HOST"] or "localhost", settings["PORT"] or 5432
    return f"postgresql://{settings['USER']}{password}@{host}:{port}/{database}"


@pytest.fixture
def scratch_postgresql(django_db_blocker):
    """An empty PostgreSQL database beside the test database (dropped afterwards)."""
    with django_db_blocker.unblock():
        name = f"{connection.settings_dict['NAME']}_demo"[:63]
    admin_url = _server_url("postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _server_url(name)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs a PostgreSQL server: run with DATABASE_URL=postgres://..."
)
@pytest.mark.django_db
def test_load_demo_data_loads_the_same_rows_into_postgresql_and_registers_it(scratch_postgresql, capsys, tmp_path):
    sqlite_digest = demo.build_demo_sqlite(tmp_path / "demo.sqlite3")
    call_command("load_demo_data", "--database-url", scratch_postgresql)
    assert "Loaded the demo rows" in capsys.readouterr().out
    with psycopg.connect(scratch_postgresql) as conn:
        assert demo.database_digest(conn) == sqlite_digest == DEMO_DIGEST
    source = DataSource.objects.get(name="demo-postgresql")
    assert source.engine == "postgresql" and not source.is_default
    call_command("load_demo_data", "--database-url", scratch_postgresql)  # idempotent
    assert "already in" in capsys.readouterr().out
    assert DataSource.objects.filter(engine="postgresql").count() == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs a PostgreSQL server: run with DATABASE_URL=postgres://..."
)
@pytest.mark.django_db
def test_load_demo_data_refuses_tables_holding_other_rows_unless_replace(scratch_postgresql, capsys):
    with psycopg.connect(scratch_postgresql) as conn:
        conn.execute("CREATE TABLE customers (id integer primary key, name text)")
        conn.execute("INSERT INTO customers VALUES (1, 'mine')")
    from majed_vanna.commands import Error

    with pytest.raises(Error, match="--replace"):
        call_command("load_demo_data", "--database-url", scratch_postgresql)
    with psycopg.connect(scratch_postgresql) as conn:
        assert conn.execute("SELECT name FROM customers").fetchall() == [("mine",)]
    call_command("load_demo_data", "--database-url", scratch_postgresql, "--replace")
    with psycopg.connect(scratch_postgresql) as conn:
        assert demo.database_digest(conn) == DEMO_DIGEST
