"""Signed and API-key requests against a real daphne process over real HTTP (contract §5).

The process gets its own data dir and a SQLite database migrated by ``manage.py migrate``; the client is
made with ``manage.py create_integration_client`` exactly as an operator would. With REDIS_URL set, nonces
live in Redis (own key prefix), so the replay check runs against the shared cache.
"""

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from integrations.signing import encode_path, signed_headers

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = "integrations.tests.daphne_settings"


def _env(data_dir: Path) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(
        DJANGO_SETTINGS_MODULE=SETTINGS,
        MV_DATA_DIR=str(data_dir),
        DATABASE_URL=f"sqlite:///{data_dir / 'db.sqlite3'}",
        CACHE_KEY_PREFIX=f"{settings.CACHE_KEY_PREFIX}_daphne{os.getpid()}",
        PYTHONPATH=str(ROOT),
    )
    return env


def _manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


class Server:
    def __init__(self, port: int):
        self.port = port

    def request(self, method: str, target: str, body: bytes = b"", headers: dict | None = None):
        """Send ``target`` byte for byte (no client-side URL normalizing)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.putrequest(method, target, skip_accept_encoding=True)
            for name, value in {**(headers or {}), "Content-Length": str(len(body))}.items():
                conn.putheader(name, value)
            if body:
                conn.putheader("Content-Type", "application/json")
            conn.endheaders(body or None)
            response = conn.getresponse()
            return response.status, json.loads(response.read() or b"null")
        finally:
            conn.close()


@pytest.fixture(scope="module")
def daphne(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("daphne")
    env = _env(data_dir)
    _manage(env, "migrate", "--noinput", "-v", "0")
    created = _manage(env, "create_integration_client", "--name", "Daphne probe", "--permissions", "use_chat")
    creds = dict(re.findall(r"^(client_id|client_secret|api_key): (\S+)$", created, re.MULTILINE))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    log = open(data_dir / "daphne.log", "w")  # noqa: SIM115 (closed in the finalizer)
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "--fd", str(listener.fileno()), "majed_vanna.asgi:application"],
        cwd=ROOT,
        env=env,
        pass_fds=[listener.fileno()],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    listener.close()  # the child holds its own copy
    server = Server(port)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                if server.request("GET", "/api/v1/_probe/public")[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, (data_dir / "daphne.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "daphne did not start within 15 s"
            time.sleep(0.1)
        yield server, creds
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


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
