"""Rate limits (contract §3): counters in the shared cache, identity = integration client, else user,
else client IP; X-RateLimit-* on every throttled response; 429 with Retry-After."""

import time
from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from majed_vanna.api.callers import caller_key
from majed_vanna.runtime import set_runtime_config_provider

from .servers import requires_redis

pytestmark = pytest.mark.urls("majed_vanna.tests.urls")


def rate_headers(response) -> tuple[int, int, int]:
    return (
        int(response["X-RateLimit-Limit"]),
        int(response["X-RateLimit-Remaining"]),
        int(response["X-RateLimit-Reset"]),
    )


def test_headers_count_down_then_429_with_retry_after(api_client):
    seen = [rate_headers(api_client.get("/api/v1/test/throttled")) for _ in range(3)]
    assert [(limit, remaining) for limit, remaining, _ in seen] == [(3, 2), (3, 1), (3, 0)]
    now = time.time()
    assert all(now < reset <= now + 3600 for _, _, reset in seen)
    refused = api_client.get("/api/v1/test/throttled")
    assert refused.status_code == 429
    assert rate_headers(refused)[:2] == (3, 0)
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert int(refused["Retry-After"]) <= rate_headers(refused)[2] - int(now) + 1


def test_anonymous_callers_are_counted_per_ip():
    first, second = APIClient(REMOTE_ADDR="10.1.1.1"), APIClient(REMOTE_ADDR="10.1.1.2")
    for _ in range(3):
        first.get("/api/v1/test/throttled")
    assert first.get("/api/v1/test/throttled").status_code == 429
    assert second.get("/api/v1/test/throttled").status_code == 200


def test_users_are_counted_per_user_across_their_clients(api_client_for, user, admin):
    phone, laptop = api_client_for(user), api_client_for(user)
    assert phone.get("/api/v1/test/user-throttled").status_code == 200
    assert rate_headers(laptop.get("/api/v1/test/user-throttled"))[1] == 0
    refused = phone.get("/api/v1/test/user-throttled")
    assert refused.status_code == 429 and "Retry-After" in refused
    assert api_client_for(admin).get("/api/v1/test/user-throttled").status_code == 200


def test_trusted_proxy_count_picks_the_client_from_x_forwarded_for(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    behind_proxy = APIClient(REMOTE_ADDR="127.0.0.1")
    for client_ip in ("203.0.113.7", "203.0.113.7", "203.0.113.7"):
        behind_proxy.get("/api/v1/test/throttled", HTTP_X_FORWARDED_FOR=f"1.1.1.1, {client_ip}")
    assert behind_proxy.get("/api/v1/test/throttled", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 429
    # A spoofed left-most entry does not change who the proxy says the client is.
    assert behind_proxy.get("/api/v1/test/throttled", HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.8").status_code == 200


def test_integration_clients_are_counted_per_client():
    principal = SimpleNamespace(is_authenticated=True, pk=7, integration_client_id="cli_abc")
    request = SimpleNamespace(user=principal, client_ip="1.2.3.4", META={})
    assert caller_key(request) == "client:cli_abc"
    request.user = SimpleNamespace(is_authenticated=True, pk=7)
    assert caller_key(request) == "user:7"


def test_default_rate_comes_from_the_runtime_configuration(api_client):
    set_runtime_config_provider(lambda: {"rate_limit_max_requests": 2, "rate_limit_window": 60})
    try:
        assert rate_headers(api_client.get("/api/v1/test/items"))[:2] == (2, 1)
        api_client.get("/api/v1/test/items")
        assert api_client.get("/api/v1/test/items").status_code == 429
    finally:
        set_runtime_config_provider(None)


@pytest.mark.slow
@requires_redis
def test_two_server_processes_share_the_count(daphne_server):
    """Two daphne processes on one Redis: hits on one reduce Remaining on the other (REDIS_URL only)."""
    first, second = daphne_server(urls_for_tests=True), daphne_server(urls_for_tests=True)
    assert first.get("/api/v1/test/throttled").headers["X-RateLimit-Remaining"] == "2"
    assert second.get("/api/v1/test/throttled").headers["X-RateLimit-Remaining"] == "1"
    assert first.get("/api/v1/test/throttled").headers["X-RateLimit-Remaining"] == "0"
    refused = second.get("/api/v1/test/throttled")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert int(refused.headers["Retry-After"]) > 0
    # The public readiness endpoint is throttled per IP across processes too (liveness is not throttled).
    before = int(first.get("/api/v1/health/ready").headers["X-RateLimit-Remaining"])
    assert int(second.get("/api/v1/health/ready").headers["X-RateLimit-Remaining"]) == before - 1


@requires_redis
def test_a_hit_is_one_round_trip_to_redis_and_the_counter_expires(monkeypatch):
    import redis.connection
    from django.core.cache import cache

    from majed_vanna.api.throttles import hit

    sent = []
    original = redis.connection.AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(command)
        return original(self, command, check_health)

    hit(scope="tests.rt", identity="ip:1", rate="5/minute")  # connect first: connecting is not the point
    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)
    allowed, state = hit(scope="tests.rt", identity="ip:1", rate="5/minute")
    assert allowed and state.remaining == 3
    assert len(sent) == 1
    key = next(k for k in cache.keys("rl:tests.rt:*"))
    assert cache.get(key) == 2
    assert 0 < cache.ttl(key) <= 61
