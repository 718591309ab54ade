"""Health endpoints (contract §5 "Health"): public report with states and timings only, readiness,
liveness, the admin's detailed view and circuit-breaker reset."""

import json
import time

from accounts.models import AuditLog
from accounts.services import audit_record
from health.registry import DEGRADED, CheckResult, check_overridden
from majed_vanna.circuit_breakers import OPEN, get_breaker
from majed_vanna.runtime import set_runtime_config_provider

CHECKS = {"database", "cache", "llm", "data_source", "circuit_breakers", "system"}


def failing():
    raise ConnectionError("could not connect to db.internal.example:5432 at /var/run/secret.sock")


def test_public_health_is_healthy_with_every_check(api_client, db):
    response = api_client.get("/api/v1/health")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == "healthy"
    assert set(data) == {"status", "timestamp", "uptime_seconds", "version", "checks"}
    assert set(data["checks"]) == CHECKS
    assert data["checks"]["database"]["status"] == "healthy" and data["checks"]["database"]["required"] is True
    assert data["checks"]["cache"]["status"] == "healthy"
    for name in ("llm", "data_source"):
        check = data["checks"][name]
        assert check["status"] == "not_configured" and check["required"] is False
        assert "not a failure" in check["message"]
    system = data["checks"]["system"]
    assert {"cpu_percent", "memory_percent", "disk_percent"} <= set(system)
    assert all(isinstance(check["response_time_ms"], float) for check in data["checks"].values())
    assert data["uptime_seconds"] >= 0
    assert int(response["X-RateLimit-Limit"]) == 1000


def test_public_output_leaks_no_hosts_paths_or_error_text(api_client, db, settings):
    with check_overridden("data_source", failing, required=False):
        response = api_client.get("/api/v1/health")
    text = response.content.decode()
    for leak in ("db.internal", "5432", "/var/run", "ConnectionError", "could not connect", str(settings.DATA_DIR)):
        assert leak not in text
    assert response.json()["data"]["checks"]["data_source"]["message"] == "Check failed"


def test_check_details_are_filtered_to_figures_and_states(api_client, db):
    def chatty():
        return CheckResult("healthy", {"latency_ms": 3, "host": "db.internal.example", "mode": "read_only"})

    with check_overridden("data_source", chatty, required=False):
        check = api_client.get("/api/v1/health").json()["data"]["checks"]["data_source"]
    assert check["latency_ms"] == 3 and check["mode"] == "read_only"
    assert "host" not in check


def test_failing_optional_check_is_degraded(api_client, db):
    with check_overridden("llm", failing, required=False):
        response = api_client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["data"]["status"] == DEGRADED
    assert response.json()["data"]["checks"]["llm"]["status"] == "unhealthy"


def test_failing_required_check_is_503_with_the_report(api_client, db):
    with check_overridden("database", failing, required=True):
        response = api_client.get("/api/v1/health")
    assert response.status_code == 503
    body = response.json()
    assert body["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert body["error"]["details"]["status"] == "unhealthy"
    assert body["error"]["details"]["checks"]["database"]["status"] == "unhealthy"
    assert int(response["Retry-After"]) > 0


def test_a_hung_check_cannot_hang_the_endpoint(api_client, db):
    def hangs():
        time.sleep(3)

    with check_overridden("llm", hangs, required=False, timeout=0.3):
        started = time.monotonic()
        response = api_client.get("/api/v1/health")
        elapsed = time.monotonic() - started
    assert elapsed < 2
    check = response.json()["data"]["checks"]["llm"]
    assert check["status"] == "unhealthy" and check["message"] == "Timed out"


def test_open_circuit_breaker_shows_and_degrades(api_client, db):
    breaker = get_breaker("health-test-dep")
    set_runtime_config_provider(lambda: {"circuit_breaker_failure_threshold": 1})
    try:
        breaker.record_failure()
    finally:
        set_runtime_config_provider(None)
    data = api_client.get("/api/v1/health").json()["data"]
    assert data["status"] == DEGRADED
    assert data["checks"]["circuit_breakers"]["breakers"]["health-test-dep"]["state"] == OPEN


def test_live(api_client):
    response = api_client.get("/api/v1/health/live")
    assert response.status_code == 200 and response.json()["data"]["status"] == "alive"


def test_ready_runs_required_checks_only(api_client, db):
    response = api_client.get("/api/v1/health/ready/")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == "ready" and set(data["checks"]) == {"database", "cache"}


def test_ready_is_503_while_a_required_dependency_is_down(api_client, db):
    with check_overridden("cache", failing, required=True):
        response = api_client.get("/api/v1/health/ready")
    assert response.status_code == 503
    assert response.json()["error"]["details"]["checks"]["cache"]["status"] == "unhealthy"
    assert "Retry-After" in response


def test_detailed_needs_system_admin(api_client, api_client_for, user, superuser):
    assert api_client.get("/api/v1/health/detailed").status_code == 401
    for who in (user, superuser):
        response = api_client_for(who).get("/api/v1/health/detailed")
        assert response.status_code == 403 and response.json()["error"]["code"] == "PERMISSION_DENIED"


def test_detailed_has_health_metrics_and_last_hour_of_audit(api_client_for, admin):
    audit_record(action="user.create", actor=admin, resource="user", resource_id="x", details={"password": "p"})
    client = api_client_for(admin)
    client.get("/api/v1/health/live")
    response = client.get("/api/v1/health/detailed")
    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == {"health", "metrics", "logs"}
    assert set(data["health"]["checks"]) == CHECKS
    metrics = data["metrics"]
    assert {"requests_per_minute", "active_connections", "error_rate", "average_response_time_ms"} <= set(metrics)
    assert metrics["requests_per_minute"] >= 1 and metrics["active_connections"] >= 1
    assert [row["action"] for row in data["logs"]] == ["user.create"]
    assert data["logs"][0]["timestamp"].endswith("Z")
    assert "password" not in json.dumps(data["logs"])
    assert int(response["X-RateLimit-Limit"]) == 100


def test_detailed_names_the_error_type_for_admins(api_client_for, admin):
    with check_overridden("llm", failing, required=False):
        data = api_client_for(admin).get("/api/v1/health/detailed").json()["data"]
    assert data["health"]["checks"]["llm"]["error"] == "ConnectionError"
    assert "db.internal" not in json.dumps(data)


def test_reset_circuit_breaker_is_audited(api_client_for, admin):
    breaker = get_breaker("reset-me")
    set_runtime_config_provider(lambda: {"circuit_breaker_failure_threshold": 1})
    try:
        breaker.record_failure()
        assert breaker.state == OPEN
        response = api_client_for(admin).post("/api/v1/health/circuit-breakers/reset-me/reset")
    finally:
        set_runtime_config_provider(None)
    assert response.status_code == 200
    assert response.json()["data"]["state"] == "closed"
    assert response.json()["data"]["previous_state"] == OPEN
    assert breaker.state == "closed"
    row = AuditLog.objects.get(action="circuit_breaker.reset")
    assert (row.resource_id, row.user_id, row.request_id) == ("reset-me", str(admin.pk), response["X-Request-Id"])


def test_reset_unknown_breaker_is_404(api_client_for, admin):
    response = api_client_for(admin).post("/api/v1/health/circuit-breakers/never-registered/reset")
    assert response.status_code == 404 and response.json()["error"]["code"] == "RESOURCE_NOT_FOUND"


def test_reset_needs_system_admin(api_client_for, superuser):
    get_breaker("reset-me-too")
    response = api_client_for(superuser).post("/api/v1/health/circuit-breakers/reset-me-too/reset")
    assert response.status_code == 403
