"""Real daphne processes against forged ``X-Forwarded-For`` headers and slow clients
(``majed_vanna/daphne_hardening.py``, ``majed_vanna/request_context.py``).

- Started with ``--proxy-headers`` (as the README once showed), daphne put the client's ``X-Forwarded-For``
  in place of the socket peer: ``not-an-ip`` was a 500 on PostgreSQL with the failed login's audit row lost,
  and a new header per try escaped the 5/minute per-IP login limit. The peer now stays the client address.
- A client that sent its headers or body a byte at a time kept the connection open indefinitely (Twisted's
  one-minute idle timer restarts at every byte): read deadlines close it with 408.
"""

import json
import re
import socket
import time
import uuid
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from majed_vanna.tests.servers import run_manage, server_env

BASE_DIR = Path(settings.BASE_DIR)
DEADLINE = 2  # seconds, for both the header and the body deadline of the server under test
MARGIN = 2.0  # Twisted checks its timers on its own loop; the abort of an unread close adds nothing here


def _server_database(data_dir: Path) -> dict:
    """The server's own database (its SQLite file, or the run's PostgreSQL database), migrated."""
    env = server_env(data_dir=data_dir, settings_module="majed_vanna.settings.test")
    result = run_manage("migrate", "--noinput", "-v0", env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    return env


def _failed_login_addresses(env: dict, marker: str) -> list:
    code = (
        "import json; from accounts.models import AuditLog; "
        f"rows = AuditLog.objects.filter(action='auth.login_failed', username__contains='{marker}'); "
        "print(json.dumps(sorted([r.ip_address or '' for r in rows])))"
    )
    result = run_manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_with_proxy_headers_the_socket_peer_stays_the_client_address(daphne_server, tmp_path):
    env = _server_database(tmp_path)
    server = daphne_server(data_dir=tmp_path, daphne_args=("--proxy-headers",))
    marker = uuid.uuid4().hex[:8]
    forwarded = ["not-an-ip", "1.2.3.4:5678", "300.1.1.1", "198.51.100.4", "198.51.100.5", "198.51.100.6"]
    codes = []
    with httpx.Client(base_url=server.base_url, timeout=15) as client:  # one socket, kept alive
        for number, value in enumerate(forwarded):
            response = client.post(
                "/api/v1/auth/login",
                json={"username": f"{marker}-{number}@example.com", "password": "not-the-password"},
                headers={"X-Forwarded-For": value},
            )
            codes.append(response.status_code)
    assert codes == [401] * 5 + [429], (codes, server.log()[-3000:])
    assert _failed_login_addresses(env, marker) == ["127.0.0.1"] * 6, "audit rows lost or forged addresses"


def _slow_server(daphne_server):
    return daphne_server(
        urls_for_tests=True,
        env={"HTTP_HEADER_TIMEOUT_SECONDS": DEADLINE, "HTTP_BODY_TIMEOUT_SECONDS": DEADLINE},
    )


def _drip(sock: socket.socket, data: bytes, every: float) -> float | None:
    """Send ``data`` a byte at a time; the seconds until the server closed (None: it never did)."""
    started = time.monotonic()
    for byte in data:
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            return time.monotonic() - started
        time.sleep(every)
        if _closed(sock):
            return time.monotonic() - started
    return None


def _closed(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        chunk = sock.recv(4096, socket.MSG_PEEK)
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        sock.setblocking(True)
    if chunk.startswith(b"HTTP/1.1 408"):
        sock.recv(4096)
        return _closed(sock) if chunk.endswith(b"\r\n\r\n") else False
    return chunk == b""


def _answer_then_closed(sock: socket.socket) -> bytes:
    sock.settimeout(DEADLINE + MARGIN + 5)
    received = b""
    while chunk := sock.recv(4096):
        received += chunk
    return received


@pytest.mark.slow
def test_headers_sent_a_byte_at_a_time_are_cut_off_at_the_header_deadline(daphne_server):
    server = _slow_server(daphne_server)
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"GET /api/v1/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        closed_after = _drip(sock, b"X-Slow: " + b"a" * 200, every=0.25)  # far inside Twisted's idle minute
    assert closed_after is not None, "still open after 50 s of dripped headers"
    assert closed_after < DEADLINE + MARGIN, closed_after


@pytest.mark.slow
def test_a_body_sent_a_byte_at_a_time_is_answered_408_at_the_body_deadline(daphne_server):
    server = _slow_server(daphne_server)
    body = b'{"username": "slow@example.com", "password": "' + b"p" * 200 + b'"}'
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
        )
        started = time.monotonic()
        sock.sendall(body[:5])
        answer = _answer_then_closed(sock)
        elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout"), answer[:200]
    assert DEADLINE - 0.5 < elapsed < DEADLINE + MARGIN, elapsed


@pytest.mark.slow
def test_a_kept_alive_connection_that_sends_nothing_more_is_closed(daphne_server):
    server = _slow_server(daphne_server)
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"GET /api/v1/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        started = time.monotonic()
        answer = _answer_then_closed(sock)
        elapsed = time.monotonic() - started
    assert re.match(rb"HTTP/1.1 200 ", answer), answer[:200]
    assert b"408 Request Timeout" in answer  # after the 200, the idle wait for a next request ran out
    assert elapsed < DEADLINE + MARGIN, elapsed


@pytest.mark.slow
def test_requests_and_responses_longer_than_the_deadlines_are_not_cut(daphne_server):
    """The deadlines cover reading the request only: a stream that lasts twice as long arrives whole, and
    requests on a kept-alive connection are each given their own deadline."""
    server = _slow_server(daphne_server)
    with httpx.Client(base_url=server.base_url, timeout=15) as client:
        started = time.monotonic()
        stream = client.post("/api/v1/test/async-stream", params={"parts": 4, "pause": DEADLINE / 2 + 0.1})
        assert stream.status_code == 200 and len(stream.content) == 4000
        assert time.monotonic() - started > DEADLINE * 2
        for _ in range(3):
            time.sleep(DEADLINE / 2)
            assert client.get("/api/v1/health/live").status_code == 200


# A daphne command line, continuation lines ("\\\n") included.
DAPHNE_COMMAND = re.compile(r"daphne\b(?:[^\n\\]|\\.|\\\n)*?majed_vanna\.asgi:application")
SHIPPED_COMMANDS = ("README.md", "Dockerfile", "scripts/run.sh")  # each must hold at least one


@pytest.mark.parametrize(
    "path", sorted({*SHIPPED_COMMANDS, *(f"scripts/{p.name}" for p in (BASE_DIR / "scripts").glob("*.sh"))})
)
def test_no_shipped_daphne_command_trusts_forwarded_headers(path):
    """The client address comes from TRUSTED_PROXY_COUNT alone: no command we ship or document passes
    ``--proxy-headers`` (the README says why)."""
    text = (BASE_DIR / path).read_text()
    commands = DAPHNE_COMMAND.findall(text)
    if path in SHIPPED_COMMANDS:
        assert commands, f"{path}: no daphne command found"
    for command in commands:
        assert "--proxy-headers" not in command, f"{path}: {command}"
    if path == "README.md":
        assert "--proxy-headers" in text, "the README no longer says why daphne must not run with --proxy-headers"


@pytest.mark.parametrize("module_name", ["daphne.http_protocol", "daphne.ws_protocol"])
def test_both_of_daphnes_parsers_keep_the_peer_and_the_forwarded_scheme(module_name):
    """HTTP and WebSocket connections alike (each daphne module imported the parser by name)."""
    import importlib

    import majed_vanna.asgi  # noqa: F401 - importing the application applies the change, as daphne does

    parse = importlib.import_module(module_name).parse_x_forwarded_for
    headers = {b"x-forwarded-for": [b"6.6.6.6"], b"x-forwarded-proto": [b"https"]}
    peer = ["192.0.2.1", 40000]
    assert parse(headers, "X-Forwarded-For", "X-Forwarded-Port", "X-Forwarded-Proto", peer, "http") == (peer, "https")
