"""Two concurrent slow queries do not delay ``/api/v1/health`` (issue 14, layer 6), against a real daphne: the
runners wait off the event loop (SQLite on the ``sql`` thread lane, PostgreSQL on async pooled connections)."""

import json
import statistics
import threading
import time

import httpx
import pytest

from .runner_fixtures import *  # noqa: F403 - fixtures (sqlite_source, pg_source, runner_pools)
from .runner_fixtures import ON_POSTGRESQL, build_sqlite

SQLITE_SLOW = "SELECT count(*) FROM numbers a, numbers b, numbers c"
PG_SLOW = "SELECT pg_sleep(3)"


def _health_latencies(server, stop: threading.Event) -> list[float]:
    latencies = []
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        while not stop.is_set():
            started = time.monotonic()
            assert client.get("/api/v1/health").status_code in (200, 503)
            latencies.append(time.monotonic() - started)
            time.sleep(0.05)
    return latencies


def _check(server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        quiet = []
        for _ in range(10):
            started = time.monotonic()
            client.get("/api/v1/health")
            quiet.append(time.monotonic() - started)
    stop, result, latencies = threading.Event(), {}, []

    def slow():
        result["response"] = httpx.post(f"{server.base_url}/api/v1/test/slow-sql", timeout=30)
        stop.set()

    worker = threading.Thread(target=slow)
    worker.start()
    time.sleep(0.2)  # both queries are running
    latencies = _health_latencies(server, stop)
    worker.join(30)
    body = result["response"].json()
    assert body["outcomes"] == ["timeout", "timeout"], body
    assert body["seconds"] >= 2.5, body  # they really were slow, and ran together (not one after the other)
    assert body["seconds"] < 2 * 3, body
    assert len(latencies) >= 10, latencies
    # Health stayed fast while both ran: never waiting for a query (which would take seconds).
    assert max(latencies) < 1.0, (latencies, quiet)
    assert statistics.median(latencies) < max(0.25, 5 * statistics.median(quiet)), (latencies, quiet)


@pytest.mark.slow
def test_two_slow_sqlite_queries_do_not_delay_health(daphne_server, tmp_path):
    path = build_sqlite(tmp_path / "data.sqlite3")
    source = {"engine": "sqlite", "url": f"sqlite:///{path}", "timeout_ms": 3_000}
    server = daphne_server(
        settings_module="agent.tests.sql.runner_server_settings",
        env={"RUNNER_TEST_SOURCE": json.dumps(source), "RUNNER_TEST_SQL": SQLITE_SLOW},
    )
    _check(server)


@pytest.mark.slow
@pytest.mark.skipif(
    not ON_POSTGRESQL, reason="needs a PostgreSQL server: set DATABASE_URL to one (CI's second run does)"
)
def test_two_slow_postgresql_queries_do_not_delay_health(daphne_server, pg_source):
    source = {"engine": "postgresql", "url": pg_source.readonly.url, "timeout_ms": 3_000}
    server = daphne_server(
        settings_module="agent.tests.sql.runner_server_settings",
        env={"RUNNER_TEST_SOURCE": json.dumps(source), "RUNNER_TEST_SQL": "SELECT pg_sleep(10)"},
    )
    _check(server)
