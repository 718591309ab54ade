"""The client address comes from ``TRUSTED_PROXY_COUNT`` alone (contract §3), whatever the server in front did.

``daphne --proxy-headers`` copies the leftmost ``X-Forwarded-For`` entry (whatever the client wrote) into the
socket peer. A peer that is not an IP address, or that a forwarded entry names (the server took it from the
header), is not an address the app can trust: the client IP is then ``None`` (``unknown`` in rate-limit keys,
null in audit rows), never the header's text: no 500 from PostgreSQL's ``inet`` column, no new rate-limit
bucket per forged header.
"""

import pytest
from django.test import RequestFactory

from accounts.models import AuditLog
from majed_vanna.api.callers import caller_key
from majed_vanna.request_context import client_ip_from_meta

pytestmark = pytest.mark.django_db

FORGED = ["not-an-ip", "1.2.3.4:5678", "300.1.1.1", "fe80::1%eth0", "[2001:db8::1]", ""]


@pytest.mark.parametrize("peer", [*FORGED, None])
def test_a_peer_that_is_not_an_ip_address_is_no_address(peer):
    assert client_ip_from_meta({"REMOTE_ADDR": peer}, 0) is None
    assert client_ip_from_meta({"REMOTE_ADDR": peer, "HTTP_X_FORWARDED_FOR": "203.0.113.9"}, 1) == "203.0.113.9"


@pytest.mark.parametrize(
    ("forwarded", "peer"),
    [
        ("198.51.100.7", "198.51.100.7"),  # daphne --proxy-headers: the leftmost entry became the peer
        ("198.51.100.7, 10.0.0.1", "198.51.100.7"),
        (" 198.51.100.7 ,10.0.0.1", "198.51.100.7"),
        ("2001:db8::7", "2001:db8:0::7"),  # the same address written two ways
        ("10.0.0.1, 198.51.100.7", "198.51.100.7"),  # uvicorn's flavour: the rightmost entry
    ],
)
def test_a_peer_taken_from_x_forwarded_for_is_not_trusted(forwarded, peer):
    assert client_ip_from_meta({"REMOTE_ADDR": peer, "HTTP_X_FORWARDED_FOR": forwarded}, 0) is None


def test_the_socket_peer_is_the_client_without_trusted_proxies():
    meta = {"REMOTE_ADDR": "192.0.2.10", "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    assert client_ip_from_meta(meta, 0) == "192.0.2.10"
    assert client_ip_from_meta({"REMOTE_ADDR": "::1"}, 0) == "::1"


def test_behind_trusted_proxies_the_forwarded_entry_decides_and_a_rewritten_peer_is_no_fallback():
    # nginx appended the real client to whatever the client sent; daphne --proxy-headers copied the forgery.
    meta = {"REMOTE_ADDR": "6.6.6.6", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.9"}
    assert client_ip_from_meta(meta, 1) == "203.0.113.9"
    meta = {"REMOTE_ADDR": "not-an-ip", "HTTP_X_FORWARDED_FOR": "not-an-ip"}
    assert client_ip_from_meta(meta, 1) is None


def test_rate_limit_keys_never_fall_back_to_the_raw_peer():
    request = RequestFactory().get("/", REMOTE_ADDR="not-an-ip", HTTP_X_FORWARDED_FOR="not-an-ip")
    request.client_ip = client_ip_from_meta(request.META, 0)
    assert caller_key(request) == "ip:unknown"


def test_integration_client_checks_never_fall_back_to_the_raw_peer():
    from rest_framework.request import Request

    from integrations.authentication import client_ip

    django_request = RequestFactory().get("/", REMOTE_ADDR="not-an-ip")
    django_request.client_ip = None
    assert client_ip(Request(django_request)) is None


def _login(client, number: int, forwarded: str):
    # What daphne --proxy-headers hands Django: the forwarded entry as the peer, the header kept as sent.
    return client.post(
        "/api/v1/auth/login",
        {"username": f"nobody{number}@example.com", "password": "not-the-password"},
        format="json",
        REMOTE_ADDR=forwarded.split(",")[0].strip(),
        HTTP_X_FORWARDED_FOR=forwarded,
    )


@pytest.mark.parametrize("forwarded", ["not-an-ip", "1.2.3.4:5678", "300.1.1.1"])
def test_a_forged_peer_is_a_401_with_its_audit_row_and_no_address(api_client, forwarded):
    response = _login(api_client, 1, forwarded)
    assert response.status_code == 401, response.content
    row = AuditLog.objects.filter(action="auth.login_failed").latest("timestamp")
    assert row.ip_address is None


def test_a_new_forwarded_address_per_try_does_not_escape_the_per_ip_login_limit(api_client):
    codes = [_login(api_client, i, f"198.51.100.{i}").status_code for i in range(6)]
    assert codes == [401] * 5 + [429]
    addresses = set(AuditLog.objects.filter(action="auth.login_failed").values_list("ip_address", flat=True))
    assert addresses == {None}, "the audit log recorded forged addresses"
