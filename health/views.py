"""Health endpoints (contract §5 "Health"): async views, so they answer under load and while a
dependency hangs; checks run off the event loop with timeouts (``health.runner``)."""

from datetime import timedelta

from asgiref.sync import sync_to_async
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse

from majed_vanna.api.async_views import ApiResult, async_api_view
from majed_vanna.exceptions import ServiceUnavailableError
from majed_vanna.metrics import cluster_snapshot

from . import serializers
from .registry import UNHEALTHY
from .runner import health_report, uptime_seconds
from .services import circuit_breaker_reset

RETRY_AFTER_SECONDS = 10
UNAVAILABLE = OpenApiResponse(description="SERVICE_UNAVAILABLE error envelope; `details` holds the report")


@async_api_view(
    public=True,
    throttle_scope="health",
    schema={
        "GET": {
            "summary": "Service health",
            "description": "States and timings of every check. 503 (error envelope, report in `details`) "
            "while a required check fails; `not_configured` checks are not failures.",
            "responses": {200: serializers.HealthOutputSerializer, 503: UNAVAILABLE},
            "auth": [],
        }
    },
)
async def health(request):
    report = await health_report()
    if report["status"] == UNHEALTHY:
        raise ServiceUnavailableError("The service is unhealthy", details=report, retry_after=RETRY_AFTER_SECONDS)
    return ApiResult(report, message=f"Service is {report['status']}")


@async_api_view(
    public=True,
    throttle_scope=None,  # no rate limit: liveness touches neither the cache nor the database
    schema={
        "GET": {
            "summary": "Liveness",
            "responses": {200: serializers.LivenessOutputSerializer},
            "auth": [],
        }
    },
)
async def health_live(request):
    """The process is up and its event loop answers; checks nothing else. Not rate-limited: it touches neither
    Redis nor the database, so it answers at once whatever they do."""
    from majed_vanna.api.envelope import utc_timestamp

    return ApiResult({"status": "alive", "timestamp": utc_timestamp(), "uptime_seconds": uptime_seconds()})


@async_api_view(
    public=True,
    throttle_scope="health.ready",
    schema={
        "GET": {
            "summary": "Readiness",
            "description": "Runs the required checks (database, cache); 503 while one fails.",
            "responses": {200: serializers.ReadinessOutputSerializer, 503: UNAVAILABLE},
            "auth": [],
        }
    },
)
async def health_ready(request):
    report = await health_report(required_only=True)
    data = {"status": "ready" if report["status"] != UNHEALTHY else "not_ready", "checks": report["checks"]}
    if report["status"] == UNHEALTHY:
        raise ServiceUnavailableError("The service is not ready", details=data, retry_after=RETRY_AFTER_SECONDS)
    return ApiResult(data, message="Service is ready")


@async_api_view(
    permission="system_admin",
    throttle_scope="health.detailed",
    schema={
        "GET": {
            "summary": "Detailed health, metrics and the last hour of audit (admin)",
            "responses": {200: serializers.DetailedHealthOutputSerializer},
        }
    },
)
async def health_detailed(request):
    from accounts.selectors import audit_log_recent

    report = await health_report(include_errors=True)
    metrics = await sync_to_async(cluster_snapshot, thread_sensitive=False)()
    rows = await sync_to_async(audit_log_recent)(since=timezone.now() - timedelta(hours=1), limit=50)
    logs = [{**row, "timestamp": row["timestamp"].isoformat().replace("+00:00", "Z")} for row in rows]
    return ApiResult({"health": report, "metrics": metrics, "logs": logs}, message="Detailed health")


@async_api_view(
    methods=["POST"],
    permission="system_admin",
    throttle_scope="health.circuit_breaker_reset",
    schema={
        "POST": {
            "summary": "Reset a circuit breaker (admin)",
            "request": None,
            "responses": {200: serializers.CircuitBreakerResetOutputSerializer},
        }
    },
)
async def circuit_breaker_reset_view(request, name: str):
    data = await sync_to_async(circuit_breaker_reset)(name=name, actor=request.user)
    return ApiResult(data, message="Circuit breaker reset")
