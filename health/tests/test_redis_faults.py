"""Health endpoints of a daphne process whose Redis (a redis-server of the test's own) hangs (``SIGSTOP``):
the kernel still accepts connections, nothing answers. Liveness touches neither Redis nor the database;
``health`` and ``health/ready`` answer within their check timeout plus a small margin and report the cache."""

import time

import pytest

from majed_vanna.tests.redis_process import redis_process  # noqa: F401 - fixture
from majed_vanna.tests.servers import migrated_sqlite

pytestmark = pytest.mark.slow  # real daphne and redis-server processes

SETTINGS = "health.tests.server_settings"  # the health results cache on, as in production
CHECK_TIMEOUT = 3.0  # HEALTH_CHECK_TIMEOUT_SECONDS's default
MARGIN = 0.5


def _timed(server, path):
    started = time.monotonic()
    response = server.get(path, timeout=15)
    return response, time.monotonic() - started


def test_health_answers_in_time_while_redis_hangs(tmp_path, redis_process, daphne_server):  # noqa: F811
    redis = redis_process()
    env = {**migrated_sqlite(tmp_path, settings_module=SETTINGS), "REDIS_URL": redis.url}
    server = daphne_server(env=env, settings_module=SETTINGS, data_dir=tmp_path)
    assert server.get("/api/v1/health").status_code == 200  # pooled connections to Redis exist now

    with redis.stopped():
        for _ in range(3):  # every request, not only the first, is bounded
            live, seconds = _timed(server, "/api/v1/health/live")
            assert live.status_code == 200
            assert seconds < 0.5, f"health/live took {seconds:.2f}s"
            for path in ("/api/v1/health/ready", "/api/v1/health"):
                response, seconds = _timed(server, path)
                assert seconds < CHECK_TIMEOUT + MARGIN, f"{path} took {seconds:.2f}s"
                assert response.status_code == 503, response.text
                checks = response.json()["error"]["details"]["checks"]
                assert checks["cache"]["status"] == "unhealthy"
                assert checks["database"]["status"] == "healthy"

    deadline = time.monotonic() + 15  # Redis answers again: the service is ready again within seconds
    while (ready := server.get("/api/v1/health/ready")).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert ready.status_code == 200, ready.text
