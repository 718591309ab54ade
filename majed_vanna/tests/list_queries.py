"""Query checks for list endpoints: a page costs the same number of queries whatever its length (no N+1), and
PostgreSQL serves a list's query from an index rather than a scan and a sort."""

import json
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext


def captured(client, url: str, params: dict | None = None) -> list[str]:
    """The SQL of one ``GET url`` (asserting a 200)."""
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return [query["sql"] for query in context.captured_queries]


def on_table(queries: list[str], table: str) -> list[str]:
    return [sql for sql in queries if f'"{table}"' in sql]


def assert_page_queries_flat(django_assert_num_queries, client, url: str, params=None, *, many: int = 25):
    """A page of ``many`` rows runs exactly the queries of a page of one (no query per row). The list must hold
    more than ``many`` rows, so both pages have a next one. Returns the one-row page's SQL."""
    params = dict(params or {})
    client.get(url, {**params, "per_page": 1})  # warm per-process caches (configuration, throttle state)
    baseline = captured(client, url, {**params, "per_page": 1})
    with django_assert_num_queries(len(baseline)):
        response = client.get(url, {**params, "per_page": many})
    assert response.status_code == 200, response.content
    assert response.json()["data"]["has_next"] is True
    return baseline


def unbounded_counts(queries: list[str]) -> list[str]:
    """COUNT queries with no LIMIT inside: they read every matching row."""
    return [sql for sql in queries if re.search(r"\bCOUNT\(", sql) and "LIMIT" not in sql]


def postgres_plan(queryset) -> str:
    """EXPLAIN of ``queryset`` with sequential scans priced out, so a tiny test table shows which index (if any)
    can serve the query; a plan with a Seq Scan or a Sort means no index could."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        try:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
        finally:
            cursor.execute("SET LOCAL enable_seqscan = on")
    return json.dumps(plan if not isinstance(plan, str) else json.loads(plan))
