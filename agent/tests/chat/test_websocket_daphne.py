"""The chat over WebSocket against a real daphne process: a WebSocket client over TCP authenticates with a JWT
from ``auth/login``, asks, and gets the events (table, done) that the agent streamed from the fake LLM over
real HTTP; a bad token is closed with 4401.

One server for the module: its own data dir and SQLite database (``migrate``, then ``seed_demo`` as an
operator would: the admin account and the demo data source), its LLM configured by the environment
(``LLM_*``) to point at a fake server this module starts.

The client is a minimal RFC 6455 client (below): the ``websockets`` package is not installed, and autobahn's
asyncio client cannot share a process with daphne's Twisted one (txaio refuses to switch frameworks once
``daphne.ws_protocol`` has been imported, which other tests do).
"""

import asyncio
import base64
import hashlib
import json
import os
import struct

import pytest
from django.conf import settings

from majed_vanna.tests.fake_llm import FakeLLMServer, openai_stream
from majed_vanna.tests.servers import run_manage, server_env, start_daphne
from majed_vanna.ws import CLOSE_UNAUTHENTICATED

pytestmark = pytest.mark.slow

ADMIN, PASSWORD = "admin@example.com", "Ws-daphne-admin-pass-4071"
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SETTINGS = "majed_vanna.settings.test"
# One process instead of ``migrate`` then ``seed_demo`` (each start of Django costs seconds).
SEED = (
    "from django.core.management import call_command; call_command('migrate', verbosity=0); call_command('seed_demo')"
)
TEXT, CLOSE, PING = 0x1, 0x8, 0x9


class WebSocketClient:
    """Just enough of RFC 6455 for a test: the opening handshake, masked text frames out, frames in."""

    def __init__(self, reader, writer):
        self.reader, self.writer, self.closed = reader, writer, False

    @classmethod
    async def connect(cls, port: int, path: str) -> "WebSocketClient":
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        key = base64.b64encode(os.urandom(16))
        writer.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key.decode()}\r\nSec-WebSocket-Version: 13\r\n"
                f"Origin: http://127.0.0.1:{port}\r\n\r\n"
            ).encode()
        )
        head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)).decode("latin-1")
        assert head.startswith("HTTP/1.1 101"), head
        accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest()).decode()
        assert f"sec-websocket-accept: {accept.lower()}" in head.lower(), head
        return cls(reader, writer)

    async def send_json(self, message: dict) -> None:
        await self._send(TEXT, json.dumps(message).encode())

    async def _send(self, opcode: int, payload: bytes) -> None:
        mask, size = os.urandom(4), len(payload)
        header = bytes([0x80 | opcode])
        if size < 126:
            header += bytes([0x80 | size])
        elif size < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack("!H", size)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", size)
        self.writer.write(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
        await self.writer.drain()

    async def _frame(self) -> tuple[bool, int, bytes]:
        first, second = await self.reader.readexactly(2)
        size = second & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif size == 127:
            (size,) = struct.unpack("!Q", await self.reader.readexactly(8))
        return bool(first & 0x80), first & 0x0F, await self.reader.readexactly(size)

    async def receive(self, timeout: float = 15) -> tuple[int, bytes]:
        """The next message: (TEXT, payload), or (CLOSE, payload) whose first two bytes are the code."""
        parts, opcode = [], None
        while True:
            fin, code, payload = await asyncio.wait_for(self._frame(), timeout)
            if code == PING:
                continue  # daphne pings only after 20 s of silence; a test is over by then
            if code == CLOSE:
                return CLOSE, payload
            opcode = opcode or code
            parts.append(payload)
            if fin:
                return opcode, b"".join(parts)

    async def receive_json(self) -> dict:
        opcode, payload = await self.receive()
        assert opcode == TEXT, (opcode, payload)
        return json.loads(payload)

    async def closed_with(self) -> int:
        opcode, payload = await self.receive()
        assert opcode == CLOSE, (opcode, payload)
        self.closed = True
        await self._send(CLOSE, payload[:2])  # the closing handshake's answer
        return struct.unpack("!H", payload[:2])[0]

    async def close(self) -> None:
        """The closing handshake (unless the server began it), then the TCP connection."""
        if not self.closed:
            await self._send(CLOSE, struct.pack("!H", 1000))
            while (await self.receive())[0] != CLOSE:
                pass
        self.writer.close()
        await self.writer.wait_closed()


@pytest.fixture(scope="module")
def fake():
    server = FakeLLMServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory, fake):
    data_dir = tmp_path_factory.mktemp("ws-chat-daphne")
    env = {
        "DATABASE_URL": f"sqlite:///{data_dir / 'db.sqlite3'}",
        "CACHE_KEY_PREFIX": f"{settings.CACHE_KEY_PREFIX}_wschat{os.getpid()}",
        "MV_ADMIN_PASSWORD": PASSWORD,
        "LLM_PROVIDER": "openai",
        "LLM_MODEL": "fake-model-1",
        "LLM_BASE_URL": fake.url + "/v1",
        "LLM_API_KEY": fake.api_key,
    }
    seeded = run_manage("shell", "-c", SEED, env=server_env(data_dir=data_dir, settings_module=SETTINGS, extra=env))
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    process = start_daphne(data_dir=data_dir, env=env)
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def token(server) -> str:
    response = server.post("/api/v1/auth/login", json={"username": ADMIN, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["data"]["access_token"]


async def test_a_client_authenticates_asks_and_gets_the_table_and_done(server, token, fake):
    fake.enqueue(events=openai_stream(tool_calls=[("run_sql", {"sql": "SELECT count(*) AS n FROM customers"})]))
    fake.enqueue(events=openai_stream(["There are ", "many customers."], usage=(10, 5)))
    ws = await WebSocketClient.connect(server.port, "/ws/agent/chat/")
    await ws.send_json({"type": "auth", "token": token})
    assert (await ws.receive_json())["type"] == "auth_ok"
    await ws.send_json({"type": "chat", "message": "How many customers are there?"})
    received = [await ws.receive_json()]
    while received[-1]["type"] != "done":
        received.append(await ws.receive_json())
    table = next(e for e in received if e["type"] == "table")
    assert table["columns"] == ["n"] and table["rows"][0][0] > 0
    assert "".join(e["content"] for e in received if e["type"] == "text") == "There are many customers."
    assert received[-1]["lineage"]["tables"] == ["customers"] and received[-1]["conversation_id"]
    await ws.close()


async def test_a_bad_token_is_closed_with_4401(server):
    ws = await WebSocketClient.connect(server.port, "/ws/agent/chat/")
    await ws.send_json({"type": "auth", "token": "not-a-jwt"})
    assert await ws.closed_with() == CLOSE_UNAUTHENTICATED
    await ws.close()
