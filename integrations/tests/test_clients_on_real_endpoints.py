"""Integration clients against the project's real endpoints (contract §4, §5): a client can do exactly what its
permissions allow, through either authentication method, and nothing else.

Every call goes through the full stack (middleware, authentication, permissions, throttles) of the real URLconf,
both as ``X-API-Key`` and as an HMAC-signed request.
"""

import json

import pytest

from accounts.models import AuditLog

from .conftest import send_signed

pytestmark = pytest.mark.django_db

ALL_CLIENT_PERMISSIONS = ["use_chat", "use_tools", "read_config"]
AUTH_METHODS = ["api_key", "hmac"]


def call(http, issued, auth: str, method: str, path: str, payload=None):
    """``method path`` as ``issued`` with ``auth`` ("api_key" or "hmac"); ``payload`` is sent as JSON."""
    body = json.dumps(payload).encode() if payload is not None else b""
    if auth == "hmac":
        return send_signed(http, issued, method, path, body=body)
    return http.generic(method, path, data=body, content_type="application/json", headers={"X-API-Key": issued.api_key})


@pytest.mark.parametrize("auth", AUTH_METHODS)
def test_me_describes_the_client(make_client, client, auth):
    issued = make_client(["use_chat", "read_config"], name="Reporting")
    response = call(client, issued, auth, "GET", "/api/v1/auth/me")
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["client_id"] == issued.client.client_id
    assert data["client_name"] == "Reporting"
    assert data["role"] == "integration" and data["roles"] == ["integration"]
    assert data["permissions"] == ["read_config", "use_chat"]
    assert data["principal_type"] == "integration_client"
    assert "username" not in data and "id" not in data


@pytest.mark.parametrize("auth", AUTH_METHODS)
def test_read_config_client_reads_the_public_configuration(make_client, client, auth):
    response = call(client, make_client(["read_config"]), auth, "GET", "/api/v1/config")
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert {"database_provider", "llm_provider", "rate_limit_max_requests", "version"} <= set(data)
    assert "data_source_url" not in data and "llm_api_key_set" not in data  # admin-only fields


@pytest.mark.parametrize("auth", AUTH_METHODS)
def test_client_without_read_config_cannot_read_the_configuration(make_client, client, auth):
    issued = make_client(["use_chat", "use_tools"])
    response = call(client, issued, auth, "GET", "/api/v1/config")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "PERMISSION_DENIED"


# (method, path, JSON body); "{user_id}" is an existing user's id.
FORBIDDEN = [
    ("GET", "/api/v1/users", None),
    ("POST", "/api/v1/users", {"username": "new@example.com", "password": "a long password 1", "role": "normal"}),
    ("GET", "/api/v1/users/{user_id}", None),
    ("PATCH", "/api/v1/users/{user_id}", {"username": "renamed@example.com"}),
    ("GET", "/api/v1/audit-logs", None),
    ("PUT", "/api/v1/config", {"rate_limit_max_requests": 5}),
    ("POST", "/api/v1/config/test-database", None),
    ("POST", "/api/v1/config/test-llm", None),
    ("GET", "/api/v1/backups", None),
    ("POST", "/api/v1/backups", None),
    ("GET", "/api/v1/integrations/clients", None),
    ("POST", "/api/v1/integrations/clients", {"client_name": "Escalated", "permissions": ["use_chat"]}),
    ("GET", "/api/v1/health/detailed", None),
    ("POST", "/api/v1/health/circuit-breakers/llm/reset", None),
]


@pytest.mark.parametrize("permissions", [["use_chat"], ALL_CLIENT_PERMISSIONS], ids=["use_chat", "all-three"])
@pytest.mark.parametrize("auth", AUTH_METHODS)
@pytest.mark.parametrize(("method", "path", "payload"), FORBIDDEN, ids=[f"{m} {p}" for m, p, _ in FORBIDDEN])
def test_client_is_refused_everything_beyond_its_permissions(
    make_client, client, admin, auth, permissions, method, path, payload
):
    issued = make_client(permissions, name="Limited")
    path = path.format(user_id=admin.pk)
    before = AuditLog.objects.count()

    response = call(client, issued, auth, method, path, payload)

    assert response.status_code == 403, response.content
    assert response.json()["error"]["code"] == "PERMISSION_DENIED"
    new_rows = list(AuditLog.objects.order_by("id")[before:])
    assert [(row.action, row.user_id, row.username, row.success) for row in new_rows] == [
        ("permission.denied", issued.client.client_id, "Limited", False)
    ]
    assert new_rows[0].resource == path[:64]
    assert new_rows[0].request_id == response["X-Request-Id"]


def test_refused_writes_change_nothing(make_client, client, admin):
    from accounts.models import User
    from integrations.models import IntegrationClient

    issued = make_client(ALL_CLIENT_PERMISSIONS)
    users, clients = User.objects.count(), IntegrationClient.objects.count()
    call(client, issued, "api_key", "POST", "/api/v1/users", FORBIDDEN[1][2])
    call(client, issued, "hmac", "PATCH", f"/api/v1/users/{admin.pk}", {"username": "renamed@example.com"})
    call(client, issued, "hmac", "POST", "/api/v1/integrations/clients", FORBIDDEN[11][2])
    admin.refresh_from_db()
    assert (User.objects.count(), IntegrationClient.objects.count()) == (users, clients)
    assert admin.username != "renamed@example.com"


@pytest.mark.parametrize("auth", AUTH_METHODS)
@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/api/v1/auth/change-password", {"current_password": "whatever", "new_password": "a new long password"}),
        ("/api/v1/auth/logout", {"refresh_token": "not.a.token"}),
        ("/api/v1/auth/logout", {}),
    ],
    ids=["change-password", "logout-with-refresh", "logout"],
)
def test_user_only_auth_endpoints_refuse_a_client(make_client, client, auth, path, payload):
    issued = make_client(ALL_CLIENT_PERMISSIONS)
    before = AuditLog.objects.count()
    response = call(client, issued, auth, "POST", path, payload)
    assert response.status_code == 403, response.content
    assert response.json()["error"]["code"] == "PERMISSION_DENIED"
    rows = list(AuditLog.objects.order_by("id")[before:])
    assert [(row.action, row.user_id) for row in rows] == [("permission.denied", issued.client.client_id)]


def _remaining(response) -> int:
    assert response.status_code == 200, response.content
    return int(response["X-RateLimit-Remaining"])


def test_each_client_is_counted_under_its_own_id(make_client, client, api_client_for, user):
    """GET config allows 60/hour per caller: two clients (and a user) each have their own count, and a client's
    count is the same whichever way it authenticates."""
    first, second = make_client(["read_config"]), make_client(["read_config"])
    assert _remaining(call(client, first, "api_key", "GET", "/api/v1/config")) == 59
    assert _remaining(call(client, first, "hmac", "GET", "/api/v1/config")) == 58
    assert _remaining(call(client, second, "hmac", "GET", "/api/v1/config")) == 59
    assert _remaining(api_client_for(user).get("/api/v1/config")) == 59
    assert _remaining(call(client, first, "api_key", "GET", "/api/v1/config")) == 57
    assert _remaining(call(client, second, "api_key", "GET", "/api/v1/config")) == 58
