"""Real daphne processes answering the health endpoints."""

import asyncio

import httpx
import pytest

from majed_vanna.tests.servers import closed_port, migrated_sqlite

pytestmark = pytest.mark.slow  # every test here starts real processes (daphne, manage.py)


def test_daphne_answers_health(daphne_server):
    server = daphne_server()
    response = server.get("/api/v1/health", headers={"X-Request-Id": "probe-1"})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["data"]["status"] == "healthy"
    assert body["request_id"] == response.headers["X-Request-Id"] == "probe-1"
    assert response.headers["X-RateLimit-Limit"] == "1000"


def test_ready_is_503_when_the_database_cannot_be_reached(daphne_server):
    port = closed_port()
    url = f"postgres://postgres@127.0.0.1:{port}/nowhere?connect_timeout=1"
    server = daphne_server(env={"DATABASE_URL": url, "DB_POOL_TIMEOUT": "1"})
    assert server.get("/api/v1/health/live").status_code == 200
    ready = server.get("/api/v1/health/ready")
    assert ready.status_code == 503
    body = ready.json()
    assert body["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert body["error"]["details"]["checks"]["database"]["status"] == "unhealthy"
    assert int(ready.headers["Retry-After"]) > 0
    health = server.get("/api/v1/health")
    assert health.status_code == 503
    assert health.json()["error"]["details"]["status"] == "unhealthy"
    # An API call that needs the database says so (503 + Retry-After), not a 500.
    login = server.post("/api/v1/auth/login", json={"username": "someone@example.com", "password": "x" * 12})
    assert login.status_code == 503
    assert login.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert int(login.headers["Retry-After"]) > 0
    for leak in (str(port), "127.0.0.1", "nowhere", "OperationalError", "refused"):
        assert leak not in ready.text and leak not in health.text and leak not in login.text


def test_ready_is_503_when_redis_cannot_be_reached(daphne_server, tmp_path):
    """A dead cache is reported by the checks, not turned into a 500 by the rate limiter."""
    # A migrated database of its own: the refused login is audited.
    env = {**migrated_sqlite(tmp_path), "REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0"}
    server = daphne_server(env=env, data_dir=tmp_path)
    ready = server.get("/api/v1/health/ready")
    assert ready.status_code == 503
    checks = ready.json()["error"]["details"]["checks"]
    assert checks["cache"]["status"] == "unhealthy"
    assert checks["database"]["status"] == "healthy"
    # Login needs the shared cache (lockout, rate limits): 503 + Retry-After, not a 500.
    login = server.post("/api/v1/auth/login", json={"username": "someone@example.com", "password": "x" * 12})
    assert login.status_code == 503
    assert login.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert int(login.headers["Retry-After"]) > 0


async def test_health_stays_responsive_under_concurrent_requests(daphne_server):
    """50 concurrent health requests to one daphne process all answer, each with its own request id."""
    server = daphne_server()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as client:
        responses = await asyncio.gather(*(client.get("/api/v1/health") for _ in range(50)))
    assert [r.status_code for r in responses] == [200] * 50
    assert len({r.headers["X-Request-Id"] for r in responses}) == 50
    remaining = sorted(int(r.headers["X-RateLimit-Remaining"]) for r in responses)
    assert remaining == list(range(950, 1000))
