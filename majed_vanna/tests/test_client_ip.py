"""The client address comes from ``TRUSTED_PROXY_COUNT`` alone (contract §3), whatever the server in front did.

A peer that is not an IP address is not an address the app can use: the client IP is then ``None``
(``unknown`` in rate-limit keys, null in audit rows), never the text: no 500 from PostgreSQL's ``inet``
column. ``daphne --proxy-headers`` would copy the leftmost ``X-Forwarded-For`` entry into the peer;
``majed_vanna.daphne_hardening`` stops it (tested on a real daphne in ``test_daphne_hardening.py``).
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


def test_a_client_naming_its_own_address_in_x_forwarded_for_keeps_it():
    """Else anyone could drop out of the audit log (and into a shared rate-limit bucket) by sending their own
    address: the peer is real under daphne (``daphne_hardening``), whatever the header says."""
    meta = {"REMOTE_ADDR": "198.51.100.7", "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    assert client_ip_from_meta(meta, 0) == "198.51.100.7"


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


def _login(client, number: int, peer: str):
    return client.post(
        "/api/v1/auth/login",
        {"username": f"nobody{number}@example.com", "password": "not-the-password"},
        format="json",
        REMOTE_ADDR=peer,
    )


@pytest.mark.parametrize("peer", ["not-an-ip", "1.2.3.4:5678", "300.1.1.1"])
def test_a_peer_that_is_no_address_is_a_401_with_its_audit_row_and_no_address(api_client, peer):
    response = _login(api_client, 1, peer)
    assert response.status_code == 401, response.content
    row = AuditLog.objects.filter(action="auth.login_failed").latest("timestamp")
    assert row.ip_address is None
