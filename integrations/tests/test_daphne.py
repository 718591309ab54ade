"""Signed and API-key requests against a real daphne process over real HTTP (contract §5).

The process (``majed_vanna.tests.servers``) gets its own data dir and a SQLite database migrated by
``manage.py migrate``; the client is made with ``manage.py create_integration_client`` exactly as an operator
would. With REDIS_URL set, nonces live in Redis (own key prefix), so the replay check runs against the shared
cache.
"""

import json
import os
import re

import pytest
from django.conf import settings

from integrations.signing import encode_path, signed_headers
from majed_vanna.tests.servers import migrated_sqlite, run_manage, server_env, start_daphne

pytestmark = pytest.mark.slow

SETTINGS = "integrations.tests.daphne_settings"  # the project's URLs plus the integrations probe views


class Server:
    """The daphne process, answering (status, decoded JSON body) for requests sent byte for byte."""

    def __init__(self, process):
        self.process = process

    def request(self, method: str, target: str, body: bytes = b"", headers: dict | None = None):
        headers = {**(headers or {}), **({"Content-Type": "application/json"} if body else {})}
        status, _, content = self.process.raw_request(method, target, body, headers)
        return status, json.loads(content or b"null")


@pytest.fixture(scope="module")
def daphne(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("daphne")
    env = {
        **migrated_sqlite(data_dir, settings_module=SETTINGS),
        "CACHE_KEY_PREFIX": f"{settings.CACHE_KEY_PREFIX}_daphne{os.getpid()}",
    }
    created = run_manage(
        "create_integration_client",
        "--name",
        "Daphne probe",
        "--permissions",
        "use_chat",
        env=server_env(data_dir=data_dir, settings_module=SETTINGS, extra=env),
    )
    assert created.returncode == 0, created.stderr[-2000:]
    creds = dict(re.findall(r"^(client_id|client_secret|api_key): (\S+)$", created.stdout, re.MULTILINE))
    server = start_daphne(data_dir=data_dir, env=env, settings_module=SETTINGS, wait_path="/api/v1/_probe/public")
    try:
        yield Server(server), creds
    finally:
        server.stop()


def _signed(creds, method, path, body=b""):
    return signed_headers(
        client_id=creds["client_id"], secret=creds["client_secret"], method=method, path=path, body=body
    )


def test_signed_get_and_post_succeed_and_replay_is_refused(daphne):
    server, creds = daphne
    headers = _signed(creds, "GET", "/api/v1/_probe/chat?b=2&a=1")
    status, body = server.request("GET", "/api/v1/_probe/chat?b=2&a=1", headers=headers)
    assert status == 200, body
    assert body["data"]["client_id"] == creds["client_id"] and body["data"]["query"] == {"b": ["2"], "a": ["1"]}

    status, body = server.request("GET", "/api/v1/_probe/chat?b=2&a=1", headers=headers)
    assert (status, body["error"]["code"], body["error"]["details"]) == (
        401,
        "AUTHENTICATION_FAILED",
        {"reason": "invalid"},
    )

    payload = json.dumps({"message": "orders last week?"}).encode()
    headers = _signed(creds, "POST", "/api/v1/_probe/chat", payload)
    status, body = server.request("POST", "/api/v1/_probe/chat", payload, headers)
    assert status == 200, body
    assert body["data"]["data"] == {"message": "orders last week?"}

    tampered = payload.replace(b"last", b"past")
    status, body = server.request(
        "POST", "/api/v1/_probe/chat", tampered, _signed(creds, "POST", "/api/v1/_probe/chat", payload)
    )
    assert status == 401


def test_path_is_verified_exactly_as_sent(daphne):
    server, creds = daphne
    sent = encode_path("/api/v1/_probe/files/résumé.txt")
    status, body = server.request("GET", sent, headers=_signed(creds, "GET", sent))
    assert status == 200, body
    assert body["data"]["name"] == "résumé.txt"
    # Same resource, different bytes on the wire than were signed: refused.
    status, _ = server.request("GET", sent.replace("%C3%A9", "%c3%a9"), headers=_signed(creds, "GET", sent))
    assert status == 401


def test_api_key_and_permissions_over_http(daphne):
    server, creds = daphne
    status, body = server.request("GET", "/api/v1/_probe/chat", headers={"X-API-Key": creds["api_key"]})
    assert status == 200 and body["data"]["role"] == "integration"
    status, body = server.request("GET", "/api/v1/integrations/clients", headers={"X-API-Key": creds["api_key"]})
    assert (status, body["error"]["code"]) == (403, "PERMISSION_DENIED")
    status, body = server.request("GET", "/api/v1/_probe/chat", headers={"X-API-Key": creds["api_key"] + "x"})
    assert (status, body["error"]["code"]) == (401, "AUTHENTICATION_FAILED")
