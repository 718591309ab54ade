"""``async_api_view``: async endpoints get the same auth, permissions, throttle, idempotency and envelope
as DRF views, and under ASGI the middleware chain runs on the event loop."""

import logging
import time
import uuid

import psutil
import pytest
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from rest_framework.test import APIClient

from accounts.models import AuditLog
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.urls("majed_vanna.tests.urls")
URL = "/api/v1/test/async-admin"


def test_admin_with_jwt_gets_the_envelope_and_rate_headers(api_client_for, admin):
    response = api_client_for(admin).get(URL, HTTP_X_REQUEST_ID="async-1")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["data"]["caller"] == str(admin.pk)
    assert body["request_id"] == response["X-Request-Id"] == "async-1"
    assert (response["X-RateLimit-Limit"], response["X-RateLimit-Remaining"]) == ("5", "4")


def test_anonymous_is_401_with_scheme():
    response = APIClient().get(URL)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AUTHENTICATION_FAILED"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_bad_token_is_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer nope")
    assert client.get(URL).json()["error"]["code"] == "AUTHENTICATION_FAILED"


def test_missing_permission_is_403_and_audited(api_client_for, user):
    response = api_client_for(user).get(URL)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "PERMISSION_DENIED"
    row = AuditLog.objects.get(action="permission.denied")
    assert row.user_id == str(user.pk) and row.request_id == response["X-Request-Id"]


def test_password_change_gate(api_client_for, db):
    admin = UserFactory(role="admin", must_change_password=True)
    response = api_client_for(admin).get(URL)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "PASSWORD_CHANGE_REQUIRED"


def test_wrong_method_is_405_with_allow(api_client_for, admin):
    response = api_client_for(admin).delete(URL)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert set(response["Allow"].split(", ")) == {"GET", "POST", "HEAD", "OPTIONS"}


def test_throttle_429(api_client_for, admin):
    client = api_client_for(admin)
    for _ in range(5):
        client.get(URL)
    response = client.get(URL)
    assert response.status_code == 429 and int(response["Retry-After"]) > 0


def test_idempotent_post_replays_without_one_time_secret(api_client_for, admin):
    client, key = api_client_for(admin), str(uuid.uuid4())
    first = client.post(URL, {}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 201 and first.json()["data"]["api_key"].startswith("k-")
    again = client.post(URL, {}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json()["data"] == {**first.json()["data"], "api_key": None}
    other_body = client.post(URL, {"x": 1}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert other_body.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_middleware_chain_is_not_adapted_to_sync_under_asgi(caplog, settings):
    """Every middleware is async-capable: Django adapts none of them (it logs each adaptation when DEBUG)."""
    settings.DEBUG = True
    caplog.set_level(logging.DEBUG, logger="django.request")
    ASGIHandler()
    adapted = [r.getMessage() for r in caplog.records if "adapted" in r.getMessage()]
    assert adapted == []


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="counts a server's TCP connections to PostgreSQL (CI's second run)",
)
@pytest.mark.slow
def test_default_rate_lookup_leaves_no_database_connection_open(daphne_server):
    """An async view without a declared rate reads the runtime configuration (a database query when the
    stamp is not cached). That read must happen on the request's own thread, whose connection Django closes
    when the request ends, not on a pool thread that would keep its connection for good."""
    # No shared stamp: read the database. No connection pool: its open connections are meant to stay, and
    # a connection leaked on a pool thread would hide among them (TCP connections counted here).
    server = daphne_server(urls_for_tests=True, env={"REDIS_URL": None, "DB_POOL": "false"})
    port = int(settings.DATABASES["default"].get("PORT") or 5432)
    # The server's first request finds no stamp in its memo, so it reads the database.
    assert server.get("/api/v1/test/async-breaker").status_code == 200

    def open_to_db():
        sockets = psutil.Process(server.process.pid).net_connections(kind="tcp")
        return [s for s in sockets if s.raddr and s.raddr.port == port and s.status == psutil.CONN_ESTABLISHED]

    # Django closes it on request_finished, which may come just after the client has the response.
    deadline = time.monotonic() + 3
    while open_to_db() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert open_to_db() == []
