"""Real daphne processes answering the health endpoints."""

from majed_vanna.tests.servers import closed_port


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
    server = daphne_server(env={"DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/nowhere?connect_timeout=1"})
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
    for leak in (str(port), "127.0.0.1", "nowhere", "OperationalError", "refused"):
        assert leak not in ready.text and leak not in health.text
