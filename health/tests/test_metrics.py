"""Request metrics across server processes (``majed_vanna.metrics``)."""

import pytest
from django.core.cache import cache

from majed_vanna import metrics
from majed_vanna.tests.servers import requires_redis


def test_snapshot_counts_requests_and_errors():
    before = metrics.snapshot()["requests_per_minute"]
    metrics.request_started()
    metrics.request_finished(status=500, duration_ms=40.0)
    snapshot = metrics.snapshot()
    assert snapshot["requests_per_minute"] == before + 1
    assert snapshot["error_rate"] > 0


@requires_redis
def test_cluster_snapshot_adds_up_other_processes():
    """Another process's published figures (Redis only: the local-memory cache is per process)."""
    own = metrics.cluster_snapshot()
    cache.set(
        "metrics:proc:other-process",
        {"last_minute": 30, "count": 30, "errors": 3, "duration_ms_sum": 300.0, "active": 2, "at": 0},
        timeout=30,
    )
    combined = metrics.cluster_snapshot()
    assert combined["processes"] == own["processes"] + 1
    assert combined["requests_per_minute"] == own["requests_per_minute"] + 30
    assert combined["active_connections"] == own["active_connections"] + 2
    assert combined["error_rate"] > 0


@pytest.mark.slow
@requires_redis
def test_a_serving_process_publishes_its_figures(daphne_server):
    server = daphne_server(env={"METRICS_PUBLISH_SECONDS": "1"})
    for _ in range(3):
        server.get("/api/v1/health/live")
    import time

    deadline = time.monotonic() + 5
    published = []
    while time.monotonic() < deadline and not published:
        published = [v for v in cache.get_many(list(cache.iter_keys("metrics:proc:*"))).values() if v["count"] >= 3]
        time.sleep(0.2)
    assert published, "the daphne process published its request counts to the shared cache"
