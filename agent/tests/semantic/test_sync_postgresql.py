"""The scan of a PostgreSQL data source (CI's PostgreSQL run): schema-qualified tables, PostgreSQL's own types,
sample values through the pooled read-only runner, a foreign key across schemas, and drift after ALTER TABLE."""

import os

import psycopg
import pytest
from asgiref.sync import sync_to_async
from django.conf import settings

from agent.models import SemanticColumn, SemanticMetric
from agent.services.semantic import semantic_metric_create
from agent.services.semantic_sync import semantic_sync
from agent.sql.runners import close_pools

from ..factories import make_source
from ..sql.runner_fixtures import ON_POSTGRESQL, _admin_url, _url

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not ON_POSTGRESQL, reason="needs a PostgreSQL server: CI's second run sets DATABASE_URL"),
]

SCHEMA = """
CREATE SCHEMA sales;
CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL, tier varchar(10), joined date);
CREATE TABLE sales.orders (
    id integer PRIMARY KEY, customer_id integer REFERENCES customers (id), status text NOT NULL,
    total numeric(10, 2)
);
INSERT INTO customers SELECT i, 'Customer ' || i, (ARRAY['gold', 'silver', 'bronze'])[1 + i % 3], DATE '2024-01-01' + i
    FROM generate_series(1, 50) i;
INSERT INTO sales.orders SELECT i, 1 + i % 50, (ARRAY['pending', 'shipped', 'cancelled'])[1 + i % 3], i * 1.5
    FROM generate_series(1, 200) i;
ANALYZE;
"""


@pytest.fixture
def pg_shop():
    database = f"{settings.DATABASES['default']['NAME']}_sem_{os.getpid()}"[:63]
    maintenance = _admin_url("postgres")
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    admin_url = _admin_url(database)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(SCHEMA)
    yield admin_url
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


async def test_a_postgresql_source_is_scanned_and_its_drift_reported(pg_shop, admin):
    source = await sync_to_async(make_source)(name="pg-shop", url=_url(pg_shop))
    try:
        report = await semantic_sync(source=source, actor=admin)
        assert sorted(report["tables"]["added"]) == ["customers", "sales.orders"]
        assert report["relationships"]["added"] == ["sales.orders(customer_id)->customers(id)"]
        assert report["sample_values"]["skipped"] == []

        def columns() -> dict:
            return {
                f"{c.table.name}.{c.name}": (c.data_type, sorted(map(str, c.sample_values)), c.state)
                for c in SemanticColumn.objects.filter(data_source=source).select_related("table")
            }

        found = await sync_to_async(columns)()
        assert found["customers.tier"] == ("character varying(10)", ["bronze", "gold", "silver"], "present")
        assert found["sales.orders.status"] == ("text", ["cancelled", "pending", "shipped"], "present")
        assert found["sales.orders.total"] == ("numeric(10,2)", [], "present")
        assert found["customers.name"][1] == []  # 50 distinct names

        metric = await sync_to_async(semantic_metric_create)(
            actor=admin,
            data_source=source,
            name="open orders",
            expression="COUNT(*)",
            table="sales.orders",
            filters=["status <> 'cancelled'"],
        )
        with psycopg.connect(pg_shop, autocommit=True) as conn:
            conn.execute("ALTER TABLE sales.orders DROP COLUMN status; ALTER TABLE customers ALTER tier TYPE text")
        report = await semantic_sync(source=source, actor=admin)
        assert report["columns"]["removed"] == ["sales.orders.status"]
        assert report["columns"]["changed"] == [
            {"name": "customers.tier", "changes": ["type character varying(10) -> text"]}
        ]
        assert [item["name"] for item in report["flagged"]["metrics"]] == ["open orders"]
        metric = await SemanticMetric.objects.aget(pk=metric.pk)
        assert metric.flagged.endswith("reads sales.orders.status, which was removed from the data source")
    finally:
        await close_pools()
