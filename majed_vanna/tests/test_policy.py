"""The one request policy (majed_vanna/api/policy.py): named scopes and their rates, declared opt-outs,
streaming endpoints, and what DRF and async views now share."""

import logging
from types import SimpleNamespace

import pytest
from django.test import AsyncClient
from rest_framework.test import APIClient

from accounts.tests.factories import DEFAULT_PASSWORD
from majed_vanna import metrics
from majed_vanna.api.scopes import DEFAULT_SCOPE, rate_for
from majed_vanna.runtime import set_runtime_config_provider

pytestmark = pytest.mark.urls("majed_vanna.tests.urls")


def remaining(response) -> int:
    return int(response["X-RateLimit-Remaining"])


def test_the_runtime_configuration_overrides_one_scope_rate(api_client):
    assert int(api_client.get("/api/v1/test/ok")["X-RateLimit-Limit"]) == 50  # the scope's default
    set_runtime_config_provider(lambda: {"rate_limits": {"tests.ok": "2/hour"}})
    assert int(api_client.get("/api/v1/test/ok")["X-RateLimit-Limit"]) == 2
    api_client.get("/api/v1/test/ok")
    refused = api_client.get("/api/v1/test/ok")
    assert refused.status_code == 429
    assert refused["X-RateLimit-Remaining"] == "0" and int(refused["Retry-After"]) > 0
    # Other scopes keep their own rate.
    assert int(api_client.get("/api/v1/test/throttled")["X-RateLimit-Limit"]) == 3


def test_endpoints_without_a_rate_of_their_own_share_the_callers_default_budget(api_client_for, user):
    set_runtime_config_provider(lambda: {"rate_limit_max_requests": 3, "rate_limit_window": 60})
    client = api_client_for(user)
    assert remaining(client.get("/api/v1/test/items")) == 2
    assert remaining(client.get("/api/v1/auth/me")) == 1
    assert remaining(client.get("/api/v1/test/items")) == 0
    assert client.get("/api/v1/auth/me").status_code == 429
    # Naming such an endpoint's scope in rate_limits gives it a budget (and a counter) of its own.
    set_runtime_config_provider(
        lambda: {"rate_limit_max_requests": 3, "rate_limit_window": 60, "rate_limits": {"auth.me": "10/minute"}}
    )
    assert remaining(client.get("/api/v1/auth/me")) == 9


def test_a_client_rate_limit_applies_to_every_scope_but_login(settings):
    set_runtime_config_provider(lambda: {"rate_limits": {"agent.chat": "7/hour", "auth.login": "1000/minute"}})
    client = SimpleNamespace(rate_limit="10000/hour")
    assert rate_for("agent.chat", client).rate == "10000/hour"
    assert rate_for("anything.else", client).rate == "10000/hour"
    assert rate_for("agent.chat", SimpleNamespace(rate_limit=None)).rate == "7/hour"
    # The login limit is not a runtime rate: neither the configuration nor a client changes it.
    assert rate_for("auth.login", client).rate == settings.LOGIN_RATE
    assert rate_for("auth.login", None).rate == settings.LOGIN_RATE
    assert rate_for("users.read", None).counter == DEFAULT_SCOPE


def test_login_counts_its_own_limits_and_ignores_the_runtime_overrides(api_client, user):
    set_runtime_config_provider(lambda: {"rate_limits": {"auth.login": "1000/minute"}})
    answers = [
        api_client.post("/api/v1/auth/login", {"username": user.username, "password": "wrong"}, format="json")
        for _ in range(6)
    ]
    assert [a.status_code for a in answers][-1] == 429


def test_token_endpoints_never_replay_tokens_for_an_idempotency_key(api_client, user):
    body = {"username": user.username, "password": DEFAULT_PASSWORD}
    first = api_client.post("/api/v1/auth/login", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    second = api_client.post("/api/v1/auth/login", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == second.status_code == 200
    assert "Idempotent-Replayed" not in second
    assert first.json()["data"]["refresh_token"] != second.json()["data"]["refresh_token"]


def test_a_streaming_endpoint_refuses_an_idempotency_key_with_422():
    response = APIClient().post("/api/v1/test/async-stream", HTTP_IDEMPOTENCY_KEY="once")
    assert response.status_code == 422
    body = response.json()
    assert body["error"]["code"] == "VALIDATION_ERROR" and "Idempotency-Key" in body["error"]["details"]
    assert APIClient().post("/api/v1/test/async-stream").status_code == 200


@pytest.mark.django_db
async def test_a_stream_is_an_active_connection_and_is_logged_whole_when_it_ends(caplog):
    caplog.set_level(logging.INFO, logger="majed_vanna.access")
    before = metrics._active
    response = await AsyncClient().post("/api/v1/test/async-stream?parts=4&pause=0.1")
    assert response.status_code == 200
    assert metrics._active == before + 1  # the stream has not been sent yet
    assert not [r for r in caplog.records if "async-stream" in r.getMessage()]
    body = b"".join([chunk async for chunk in response.streaming_content])
    assert len(body) == 4000
    assert metrics._active == before
    (record,) = [r for r in caplog.records if "async-stream" in r.getMessage()]
    assert record.bytes == 4000 and record.duration_ms >= 400


@pytest.mark.django_db
def test_users_only_refuses_an_integration_client_and_audits_it():
    from accounts.models import AuditLog
    from majed_vanna.api import policy

    request = SimpleNamespace(
        user=SimpleNamespace(is_authenticated=True, integration_client_id="cli_1", mv_permissions=frozenset()),
        path="/x",
        method="GET",
    )
    with pytest.raises(Exception) as refused:
        policy.check_access(request, policy.Policy(users_only=True))
    assert getattr(refused.value, "code", None) == "PERMISSION_DENIED"
    row = AuditLog.objects.get(action="permission.denied")
    assert row.user_id == "cli_1" and row.details["permission"] == "user_account"


@pytest.mark.parametrize("path", ["/api/v1/health", "/api/v1/config/test-llm", "/api/v1/health/detailed"])
def test_options_on_async_views_describes_them_after_the_same_policy(admin, api_client_for, path):
    assert APIClient().options(path).status_code in (200, 401)  # health is public, the others are not
    response = api_client_for(admin).options(path)
    assert response.status_code == 200, response.content
    assert "OPTIONS" in response["Allow"]
    assert response.json()["data"]["renders"] == ["application/json"]


def test_options_on_an_admin_async_view_needs_the_permission(user, api_client_for):
    assert api_client_for(user).options("/api/v1/health/detailed").status_code == 403


@pytest.mark.slow
def test_an_async_view_holds_no_database_connection_once_the_policy_has_run(daphne_server, tmp_path):
    """After authentication (a database read), throttling and the permission check, the request's thread gives
    its database connection back (pool or close) before the view awaits anything: a waiting chat must not
    hold one."""
    from majed_vanna.tests.servers import migrated_sqlite, run_manage, server_env

    env = migrated_sqlite(tmp_path)
    password = "a-long-enough-password-1"
    created = run_manage(
        "createsuperuser",
        "--noinput",
        "--username",
        "ops@example.com",
        env=server_env(
            data_dir=tmp_path,
            settings_module="majed_vanna.settings.test",
            extra={**env, "DJANGO_SUPERUSER_PASSWORD": password},
        ),
    )
    assert created.returncode == 0, created.stderr
    server = daphne_server(urls_for_tests=True, env=env, data_dir=tmp_path)
    login = server.post("/api/v1/auth/login", json={"username": "ops@example.com", "password": password})
    token = login.json()["data"]["access_token"]
    answer = server.get("/api/v1/test/async-db-state", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"] == {"connection_open": False}
