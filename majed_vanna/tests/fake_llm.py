"""A scriptable fake LLM provider on 127.0.0.1 for tests (OpenAI-compatible and Anthropic shapes).

Tests never call a hosted LLM; they point the configuration at this server over real HTTP. The
``fake_llm`` fixture (available everywhere through the root ``conftest.py``) starts one per test::

    def test_something(fake_llm):
        base_url = fake_llm.url + "/v1"               # openai: {base}/chat/completions, {base}/models
        fake_llm.enqueue(status=500)                   # the next request gets a 500 ...
        fake_llm.enqueue(json={"choices": [...]}, delay=3)   # ... the one after waits 3 s, then this body
        fake_llm.delay = 0.5                           # every unscripted answer waits 0.5 s
        ...
        assert fake_llm.requests[-1].path == "/v1/chat/completions"
        fake_llm.wait_for_requests(1, timeout=5)       # block until a request has arrived

Unscripted requests get the default behaviour: the key must be ``fake_llm.api_key`` (``Authorization:
Bearer`` for openai; ``x-api-key`` plus ``anthropic-version`` for anthropic), else 401 with a body that
echoes the key (so tests can prove it never reaches a response). ``POST /v1/chat/completions`` and
``POST /v1/messages`` answer a one-word completion, ``GET /v1/models`` a model list, anything else 404
(so an openai base URL is ``fake_llm.url + "/v1"``, an anthropic one ``fake_llm.url``).
Scripted replies (``enqueue``) are served first in, first out to whatever request comes next, key or not.
``fake_llm.requests`` logs every request (method, path, headers, parsed JSON body, arrival time).

Streaming (``stream=true``) replies are scripted as server-sent events, sent one by one ``interval`` seconds
apart; ``fake_llm.sent`` logs when each went out (``time.monotonic()``)::

    fake_llm.enqueue(events=openai_stream(["Hel", "lo"], tool_calls=[("run_sql", {"sql": "SELECT 1"})]), interval=0.2)
    fake_llm.enqueue(events=anthropic_stream(["Hi"], usage=(10, 2)))
    fake_llm.enqueue(json=openai_completion(tool_calls=[("run_sql", {"sql": "SELECT 1"})], usage=(12, 5)))

While a reply waits (``delay``, ``interval``) the server watches its connection: a client that goes away is
logged in ``fake_llm.disconnects`` (arrival time of the close) and the reply is dropped.
"""

import json
import select
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

DEFAULT_API_KEY = "sk-fake-llm-key-123"
MODELS = ["fake-model-1", "fake-model-2"]
ENDPOINTS = {("GET", "/v1/models"), ("POST", "/v1/chat/completions"), ("POST", "/v1/messages")}


@dataclass
class Reply:
    status: int = 200
    json: Any = None
    body: bytes | None = None  # raw body instead of ``json``
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    events: list | None = None  # server-sent events: dict (a ``data:`` line), (event name, dict), or str
    interval: float = 0.0


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    received_at: float


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def do_GET(self):
        self.server.owner._serve(self)

    def do_POST(self):
        self.server.owner._serve(self)

    def log_message(self, *args):
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # a pooled client opens many connections at once (the default 5 resets some)
    owner: "FakeLLMServer"


class FakeLLMServer:
    def __init__(self, *, api_key: str = DEFAULT_API_KEY):
        self.api_key = api_key
        self.delay = 0.0
        self.requests: list[RecordedRequest] = []
        self.sent: list[float] = []  # when each streamed event went out
        self.disconnects: list[float] = []  # when a client closed its connection while a reply waited
        self._replies: deque[Reply] = deque()
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "FakeLLMServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # delayed answers give up at once
        self._server.shutdown()
        self._server.server_close()

    def enqueue(
        self,
        *,
        status: int = 200,
        json: Any = None,
        body: bytes | None = None,
        delay: float = 0.0,
        headers: dict[str, str] | None = None,
        events: list | None = None,
        interval: float = 0.0,
    ) -> None:
        """Script the reply to the next request (first in, first out); ``delay`` seconds before it answers.
        ``events``: a ``text/event-stream`` reply, one event every ``interval`` seconds."""
        reply = Reply(status, json, body, delay, dict(headers or {}), events, interval)
        with self._lock:
            self._replies.append(reply)

    def count(self, *, method: str | None = None, path_suffix: str = "") -> int:
        with self._lock:
            return sum(
                1
                for r in self.requests
                if (method is None or r.method == method) and r.path.split("?")[0].endswith(path_suffix)
            )

    def wait_for_requests(self, n: int, *, timeout: float = 10) -> None:
        """Block until at least ``n`` requests have arrived (raises ``TimeoutError`` otherwise)."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.requests) >= n, timeout=timeout):
                raise TimeoutError(f"the fake LLM got {len(self.requests)} requests, expected {n}")

    # --- serving
    def _serve(self, handler: _Handler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        with self._lock:
            self.requests.append(
                RecordedRequest(handler.command, handler.path, dict(handler.headers), body, time.monotonic())
            )
            self._lock.notify_all()
            reply = self._replies.popleft() if self._replies else None
        if reply is None:
            reply = self._default_reply(handler)
            reply.delay = reply.delay or self.delay
        if reply.delay and self._wait(handler, reply.delay):
            return
        if reply.events is not None:
            self._stream(handler, reply)
            return
        payload = reply.body if reply.body is not None else json.dumps(reply.json or {}).encode()
        try:
            handler.send_response(reply.status)
            headers = {"Content-Type": "application/json", **reply.headers}
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout under test)

    def _wait(self, handler: _Handler, seconds: float) -> bool:
        """Wait ``seconds``; True (give up) when the server stops or the client closed its connection."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self._stopping.wait(min(left, 0.02)):
                return True
            try:
                readable, _, _ = select.select([handler.connection], [], [], 0)
                closed = bool(readable) and handler.connection.recv(1, socket.MSG_PEEK) == b""
            except OSError:
                closed = True
            if closed:
                with self._lock:
                    self.disconnects.append(time.monotonic())
                    self._lock.notify_all()
                return True
        return False

    def _stream(self, handler: _Handler, reply: Reply) -> None:
        try:
            handler.send_response(reply.status)
            for name, value in {"Content-Type": "text/event-stream", **reply.headers}.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.flush()
            for index, event in enumerate(reply.events):
                if index and reply.interval and self._wait(handler, reply.interval):
                    return
                if isinstance(event, tuple):
                    text = f"event: {event[0]}\ndata: {json.dumps(event[1])}\n\n"
                else:
                    text = f"data: {event if isinstance(event, str) else json.dumps(event)}\n\n"
                handler.wfile.write(text.encode())
                handler.wfile.flush()
                with self._lock:
                    self.sent.append(time.monotonic())
        except (BrokenPipeError, ConnectionResetError):
            with self._lock:
                self.disconnects.append(time.monotonic())
        handler.close_connection = True

    def _default_reply(self, handler: _Handler) -> Reply:
        path = handler.path.split("?")[0]
        anthropic = handler.headers.get("x-api-key") is not None
        if anthropic:
            key_ok = handler.headers.get("x-api-key") == self.api_key and handler.headers.get("anthropic-version")
        else:
            key_ok = handler.headers.get("Authorization") == f"Bearer {self.api_key}"
        known = (handler.command, path) in ENDPOINTS
        if not known:
            return Reply(status=404, json={"error": {"message": f"Unknown path {path}"}})
        if not key_ok:
            sent = handler.headers.get("x-api-key") or handler.headers.get("Authorization") or ""
            return Reply(status=401, json={"error": {"message": f"Incorrect API key provided: {sent}"}})
        if path == "/v1/models":
            return Reply(json={"object": "list", "data": [{"id": name, "object": "model"} for name in MODELS]})
        if path == "/v1/messages":
            return Reply(json={"type": "message", "role": "assistant", "content": [{"type": "text", "text": "pong"}]})
        return Reply(
            json={"object": "chat.completion", "choices": [{"message": {"role": "assistant", "content": "pong"}}]}
        )


# --- wire-format builders for scripted replies. ``tool_calls``: [(name, arguments dict)]; ``usage``: (in, out).
def openai_completion(content=None, *, tool_calls=(), usage=None) -> dict:
    message = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = [
            {"id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
            for i, (name, args) in enumerate(tool_calls)
        ]
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": MODELS[0],
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if tool_calls else "stop"}],
    }
    if usage:
        body["usage"] = {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)}
    return body


def openai_stream(texts=(), *, tool_calls=(), usage=None) -> list:
    def chunk(delta, finish=None):
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": MODELS[0],
            "choices": [choice],
        }

    events = [chunk({"role": "assistant", "content": text}) for text in texts]
    for i, (name, args) in enumerate(tool_calls):
        raw = json.dumps(args)
        head = {"index": i, "id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": ""}}
        events.append(chunk({"tool_calls": [head]}))
        for part in (raw[: len(raw) // 2], raw[len(raw) // 2 :]):  # arguments arrive in fragments
            events.append(chunk({"tool_calls": [{"index": i, "function": {"arguments": part}}]}))
    events.append(chunk({}, "tool_calls" if tool_calls else "stop"))
    if usage:
        usage_chunk = chunk({})
        usage_chunk["choices"] = []
        usage_chunk["usage"] = {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)}
        events.append(usage_chunk)
    return [*events, "[DONE]"]


def anthropic_message(text=None, *, tool_calls=(), usage=(1, 1)) -> dict:
    content = [{"type": "text", "text": text}] if text else []
    content += [{"type": "tool_use", "id": f"toolu_{i}", "name": n, "input": a} for i, (n, a) in enumerate(tool_calls)]
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": MODELS[0],
        "content": content,
        "stop_reason": "tool_use" if tool_calls else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": usage[0], "output_tokens": usage[1]},
    }


def anthropic_stream(texts=(), *, tool_calls=(), usage=(1, 1)) -> list:
    start = {**anthropic_message(usage=(usage[0], 1)), "content": [], "stop_reason": None}
    events = [("message_start", {"type": "message_start", "message": start})]
    index = 0
    if texts:
        events.append(
            (
                "content_block_start",
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            )
        )
        for text in texts:
            delta = {"type": "text_delta", "text": text}
            events.append(("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}))
        events.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
        index = 1
    for i, (name, args) in enumerate(tool_calls, start=index):
        block = {"type": "tool_use", "id": f"toolu_{i}", "name": name, "input": {}}
        events.append(("content_block_start", {"type": "content_block_start", "index": i, "content_block": block}))
        raw = json.dumps(args)
        for part in (raw[: len(raw) // 2], raw[len(raw) // 2 :]):
            delta = {"type": "input_json_delta", "partial_json": part}
            events.append(("content_block_delta", {"type": "content_block_delta", "index": i, "delta": delta}))
        events.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
    stop = {"stop_reason": "tool_use" if tool_calls else "end_turn", "stop_sequence": None}
    events.append(("message_delta", {"type": "message_delta", "delta": stop, "usage": {"output_tokens": usage[1]}}))
    events.append(("message_stop", {"type": "message_stop"}))
    return events


@pytest.fixture
def fake_llm():
    """A started ``FakeLLMServer`` (stopped when the test ends)."""
    server = FakeLLMServer().start()
    yield server
    server.stop()
