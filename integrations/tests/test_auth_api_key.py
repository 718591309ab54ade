"""X-API-Key authentication, client lifecycle (revoke, rotate, expiry, IP ranges), permissions and per-client
rate limits, through the full Django stack."""

from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from integrations.models import IntegrationClient
from integrations.services import client_revoke, client_rotate, client_update

from .conftest import PROBE_URLS, error_of

pytestmark = [pytest.mark.urls(PROBE_URLS), pytest.mark.django_db]

CHAT, CONFIG, TOOLS, MANAGE = (f"/api/v1/_probe/{name}" for name in ("chat", "config", "tools", "manage"))


def key_get(client, issued_or_key, path=CHAT, **extra):
    key = issued_or_key if isinstance(issued_or_key, str) else issued_or_key.api_key
    return client.get(path, headers={"X-API-Key": key}, **extra)


def test_api_key_authenticates_as_the_client(make_client, client):
    issued = make_client(["use_chat", "read_config"])
    response = key_get(client, issued)
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["client_id"] == issued.client.client_id
    assert data["role"] == "integration"
    assert data["permissions"] == ["read_config", "use_chat"]


@pytest.mark.parametrize(
    "mutate",
    [
        lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),
        lambda key: key[:10] + ("0" if key[10] != "0" else "1") + key[11:],
        lambda key: key + "x",
        lambda key: key[:-1],
        lambda key: key.split(".")[0],
        lambda key: "",
        lambda key: "Bearer " + key,
        lambda key: "mvk_\x00" + key[5:],
        lambda key: "mvk_ZZZZZZZZZZZZ" + key[16:],
    ],
    ids=["last-char", "prefix-char", "appended", "truncated", "prefix-only", "empty", "with-scheme", "nul", "not-hex"],
)
def test_wrong_api_key_is_refused_with_401(make_client, client, mutate):
    issued = make_client(["use_chat"])
    response = key_get(client, mutate(issued.api_key))
    assert error_of(response) == (401, "AUTHENTICATION_FAILED", {"reason": "invalid"})


def test_bad_credentials_are_refused_even_where_anonymous_is_allowed(make_client, client):
    """A bad key or signature is never downgraded to 'anonymous'."""
    public = "/api/v1/_probe/public"
    assert client.get(public).status_code == 200
    response = client.get(public, headers={"X-API-Key": "mvk_000000000000.nope"})
    assert error_of(response) == (401, "AUTHENTICATION_FAILED", {"reason": "invalid"})
    assert response["WWW-Authenticate"] == 'ApiKey realm="api"'
    response = client.get(public, headers={"X-Client-Id": make_client().client.client_id, "X-Signature": "0" * 64})
    assert error_of(response) == (401, "AUTHENTICATION_FAILED", {"reason": "invalid"})
    assert response["WWW-Authenticate"] == 'HMAC-SHA256 realm="api"'


def test_revoked_client_is_refused_for_key_and_signature(make_client, client, signed, admin):
    issued = make_client(["use_chat"])
    assert key_get(client, issued).status_code == 200
    client_revoke(client=issued.client, actor=admin)
    assert error_of(key_get(client, issued)) == (401, "AUTHENTICATION_FAILED", {"reason": "invalid"})
    assert error_of(signed(issued, "GET", CHAT)) == (401, "AUTHENTICATION_FAILED", {"reason": "invalid"})


def test_rotated_away_credentials_are_refused_and_new_ones_work(make_client, client, signed, admin):
    old = make_client(["use_chat"])
    new = client_rotate(client=old.client, actor=admin)
    assert new.api_key != old.api_key and new.client_secret != old.client_secret
    assert error_of(key_get(client, old))[:2] == (401, "AUTHENTICATION_FAILED")
    assert error_of(signed(old, "GET", CHAT))[:2] == (401, "AUTHENTICATION_FAILED")
    assert key_get(client, new).status_code == 200
    assert signed(new, "GET", CHAT).status_code == 200


def test_expired_client_is_refused_with_reason_expired(make_client, client, signed):
    issued = make_client(["use_chat"], expires_at=timezone.now() + timedelta(hours=1))
    assert key_get(client, issued).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert error_of(key_get(client, issued)) == (401, "AUTHENTICATION_FAILED", {"reason": "expired"})
        assert error_of(signed(issued, "GET", CHAT)) == (401, "AUTHENTICATION_FAILED", {"reason": "expired"})


def test_expiry_is_not_revealed_to_a_caller_with_a_wrong_key(make_client, client):
    issued = make_client(["use_chat"], expires_at=timezone.now() + timedelta(hours=1))
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        response = key_get(client, issued.api_key[:-1] + ("A" if issued.api_key[-1] != "A" else "B"))
    assert error_of(response) == (401, "AUTHENTICATION_FAILED", {"reason": "invalid"})


def test_ip_ranges_limit_where_the_client_may_call_from(make_client, client, signed):
    issued = make_client(["use_chat"], allowed_ip_ranges=["10.1.0.0/16", "2001:db8::/32"])
    assert error_of(key_get(client, issued)) == (401, "AUTHENTICATION_FAILED", {"reason": "invalid"})
    assert key_get(client, issued, REMOTE_ADDR="10.1.200.3").status_code == 200
    assert key_get(client, issued, REMOTE_ADDR="2001:db8::7").status_code == 200
    assert error_of(signed(issued, "GET", CHAT))[:2] == (401, "AUTHENTICATION_FAILED")


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_ip_ranges_use_the_client_ip_behind_a_trusted_proxy(make_client, client):
    issued = make_client(["use_chat"], allowed_ip_ranges=["203.0.113.0/24"])
    ok = key_get(client, issued, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert ok.status_code == 200, ok.content
    spoofed = key_get(client, issued, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.1")
    assert spoofed.status_code == 401


@pytest.mark.parametrize(
    "permissions, path, allowed",
    [
        (["use_chat"], CHAT, True),
        (["use_chat"], CONFIG, False),
        (["use_chat"], TOOLS, False),
        (["read_config"], CONFIG, True),
        (["read_config"], CHAT, False),
        (["use_tools"], TOOLS, True),
        (["use_chat", "use_tools", "read_config"], MANAGE, False),
    ],
)
def test_client_can_do_only_what_its_permissions_allow(make_client, client, permissions, path, allowed):
    response = key_get(client, make_client(permissions), path)
    if allowed:
        assert response.status_code == 200, response.content
    else:
        assert error_of(response)[:2] == (403, "PERMISSION_DENIED")


def test_permission_change_takes_effect_on_the_next_request(make_client, client, admin):
    issued = make_client(["use_chat"])
    assert key_get(client, issued, CONFIG).status_code == 403
    client_update(client=issued.client, actor=admin, permissions=["use_chat", "read_config"])
    assert key_get(client, issued, CONFIG).status_code == 200


def test_denied_client_call_is_audited_with_the_client_as_actor(make_client, client):
    from accounts.models import AuditLog

    issued = make_client(["use_chat"])
    key_get(client, issued, MANAGE)
    row = AuditLog.objects.get(action="permission.denied")
    assert (row.user_id, row.username, row.success) == (issued.client.client_id, "Reporting service", False)


def test_use_chat_client_is_refused_on_the_integrations_api(make_client, client):
    issued = make_client(["use_chat", "use_tools", "read_config"])
    for method, path in [
        ("get", "/api/v1/integrations/clients"),
        ("post", "/api/v1/integrations/clients"),
        ("get", f"/api/v1/integrations/clients/{issued.client.client_id}"),
        ("post", f"/api/v1/integrations/clients/{issued.client.client_id}/rotate"),
        ("delete", f"/api/v1/integrations/clients/{issued.client.client_id}"),
    ]:
        response = getattr(client, method)(path, headers={"X-API-Key": issued.api_key}, content_type="application/json")
        assert error_of(response)[:2] == (403, "PERMISSION_DENIED"), (method, path)
    issued.client.refresh_from_db()
    assert issued.client.status == "active"


def test_rate_limits_are_counted_per_client(make_client, client):
    first, second = make_client(["use_chat"], name="first"), make_client(["use_chat"], name="second")
    limited = "/api/v1/_probe/limited"
    remaining = [key_get(client, first, limited)["X-RateLimit-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    blocked = key_get(client, first, limited)
    assert error_of(blocked)[:2] == (429, "RATE_LIMIT_EXCEEDED") and int(blocked["Retry-After"]) >= 1
    other = key_get(client, second, limited)
    assert other.status_code == 200 and other["X-RateLimit-Remaining"] == "2"


def test_last_used_at_is_written_at_most_once_a_minute(make_client, client):
    issued = make_client(["use_chat"])
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        key_get(client, issued)
        first = IntegrationClient.objects.get(pk=issued.client.pk).last_used_at
        assert first == start
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        key_get(client, issued)
        assert IntegrationClient.objects.get(pk=issued.client.pk).last_used_at == first
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        key_get(client, issued)
        assert IntegrationClient.objects.get(pk=issued.client.pk).last_used_at == start + timedelta(seconds=61)
