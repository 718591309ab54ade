"""The health routes, declared for the shared endpoint checks: three public probes, two admin operations."""

from majed_vanna.tests.endpoint_cases import Endpoint


def a_breaker() -> dict:
    from majed_vanna.circuit_breakers import get_breaker

    return {"name": get_breaker("llm").name}


ENDPOINTS = [
    Endpoint("GET", "/api/v1/health", public=True),
    Endpoint("GET", "/api/v1/health/live", public=True, throttled=False),
    Endpoint("GET", "/api/v1/health/ready", public=True),
    Endpoint("GET", "/api/v1/health/detailed", permission="system_admin", denied=("normal", "superuser")),
    Endpoint(
        "POST",
        "/api/v1/health/circuit-breakers/{name}/reset",
        permission="system_admin",
        denied=("normal", "superuser"),
        target=a_breaker,
        malformed=("bad name!", "-" * 36),
    ),
]
