"""``integrations.verification`` for callers outside DRF (async views, the WebSocket consumer) and the principal."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from integrations.principal import IntegrationPrincipal
from integrations.services import client_revoke
from integrations.signing import signed_headers
from integrations.verification import IntegrationAuthenticationFailed, SignedParts, authenticate_headers

pytestmark = pytest.mark.django_db

WS = SignedParts(method="GET", paths=["/ws/agent/chat/"], query="", body=b"")


def test_signed_websocket_handshake_headers_authenticate_once(make_client):
    issued = make_client(["use_chat", "use_tools"])
    headers = signed_headers(
        client_id=issued.client.client_id, secret=issued.client_secret, method="GET", path="/ws/agent/chat/"
    )
    lower = {name.lower(): value for name, value in headers.items()}  # ASGI header names arrive lower-case
    principal, client = authenticate_headers(lower, parts=WS, client_ip="127.0.0.1")
    assert client.pk == issued.client.pk
    assert principal.integration_client_id == principal.pk == issued.client.client_id
    assert principal.mv_permissions == frozenset({"use_chat", "use_tools"})
    with pytest.raises(IntegrationAuthenticationFailed) as replay:
        authenticate_headers(lower, parts=WS, client_ip="127.0.0.1")
    assert replay.value.details == {"reason": "invalid"} and replay.value.status_code == 401


def test_api_key_headers_and_none(make_client):
    issued = make_client(["read_config"])
    principal, _ = authenticate_headers({"X-API-Key": issued.api_key}, parts=WS, client_ip=None)
    assert principal.mv_permissions == frozenset({"read_config"})
    assert authenticate_headers({"Authorization": "Bearer x"}, parts=WS, client_ip=None) is None


def test_principal_shape_and_permissions_vanish_when_revoked_or_expired(make_client, admin):
    issued = make_client(["use_chat"], expires_at=timezone.now() + timedelta(hours=1))
    principal = IntegrationPrincipal(issued.client)
    assert (principal.is_authenticated, principal.is_anonymous, principal.must_change_password) == (True, False, False)
    assert (principal.role, principal.roles, principal.client_name) == (
        "integration",
        ["integration"],
        "Reporting service",
    )
    assert principal.mv_permissions == frozenset({"use_chat"})
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert IntegrationPrincipal(issued.client).mv_permissions == frozenset()
    revoked = client_revoke(client=issued.client, actor=admin)
    assert IntegrationPrincipal(revoked).mv_permissions == frozenset()
