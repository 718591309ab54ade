"""A fake OpenAI-compatible LLM for benchmarks: asyncio, thousands of concurrent calls, counts those in flight.

::

    .venv/bin/python bench/fake_llm_async.py --port 18501 --delay 1 --mode tool

``POST /v1/chat/completions`` (``Authorization: Bearer <--api-key>``) waits ``delay`` seconds, then answers in
the OpenAI wire format, streamed (``stream: true``: ``chat.completion.chunk`` server-sent events, a usage
chunk, ``[DONE]``) or not. What it answers depends only on the request, so concurrent chats cannot steal each
other's scripted replies:

* the conversation already holds a tool result (a ``tool`` message): the final answer, in three text deltas;
* otherwise, ``mode`` ``tool``: a ``run_sql`` tool call (``SQL``; its arguments arrive in two fragments);
  ``mode`` ``answer``: the answer at once (one LLM call per chat).

``GET /v1/models`` lists the one model (the health check's probe). ``GET /_stats`` -> ``{calls, in_flight,
max_in_flight, delay, mode}``; ``POST /_reset`` with ``{"delay": s, "mode": m}`` (both optional) zeroes the
counters and sets those. A call is in flight from its
arrival until the last byte of its answer is written. Keep-alive connections (HTTP/1.1) are served in turn.
"""

import argparse
import asyncio
import json
import time

SQL = "SELECT count(*) AS n FROM customers"
ANSWER = ["The data source ", "holds that many ", "customers."]
MODEL = "fake-model-1"


class Fake:
    def __init__(self, *, api_key: str, delay: float, mode: str):
        self.api_key, self.delay, self.mode = api_key, delay, mode
        self.calls = self.in_flight = self.max_in_flight = 0

    def stats(self) -> dict:
        return {
            "calls": self.calls,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "delay": self.delay,
            "mode": self.mode,
        }

    def reply(self, body: dict) -> tuple[list[str], list[tuple[str, dict]]]:
        """(text deltas, tool calls) for a request body."""
        messages = body.get("messages") or []
        if self.mode == "answer" or any(m.get("role") == "tool" for m in messages):
            return ANSWER, []
        return [], [("run_sql", {"sql": SQL})]


def chunk(delta: dict, finish: str | None = None) -> dict:
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def stream_events(texts: list[str], calls: list[tuple[str, dict]]) -> list[str]:
    events = [chunk({"role": "assistant", "content": text}) for text in texts]
    for i, (name, args) in enumerate(calls):
        raw = json.dumps(args)
        head = {"index": i, "id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": ""}}
        events.append(chunk({"role": "assistant", "tool_calls": [head]}))
        for part in (raw[: len(raw) // 2], raw[len(raw) // 2 :]):
            events.append(chunk({"tool_calls": [{"index": i, "function": {"arguments": part}}]}))
    events.append(chunk({}, "tool_calls" if calls else "stop"))
    usage = {**chunk({}), "choices": [], "usage": {"prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60}}
    events.append(usage)
    return [f"data: {json.dumps(e, separators=(',', ':'))}\n\n" for e in events] + ["data: [DONE]\n\n"]


def completion(texts: list[str], calls: list[tuple[str, dict]]) -> dict:
    message: dict = {"role": "assistant", "content": "".join(texts) or None}
    if calls:
        message["tool_calls"] = [
            {"id": f"call_{i}", "type": "function", "function": {"name": n, "arguments": json.dumps(a)}}
            for i, (n, a) in enumerate(calls)
        ]
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL,
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
        "usage": {"prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60},
    }


def head(status: int, headers: dict[str, str]) -> bytes:
    reason = {200: "OK", 401: "Unauthorized", 404: "Not Found"}.get(status, "Error")
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def json_response(status: int, data: dict) -> bytes:
    payload = json.dumps(data).encode()
    return head(status, {"Content-Type": "application/json", "Content-Length": str(len(payload))}) + payload


async def read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict, bytes] | None:
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = raw.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    body = await reader.readexactly(length) if length else b""
    return method, path.split("?")[0], headers, body


async def completions(fake: Fake, headers: dict, body: bytes, writer: asyncio.StreamWriter) -> None:
    if headers.get("authorization") != f"Bearer {fake.api_key}":
        writer.write(json_response(401, {"error": {"message": "Incorrect API key provided"}}))
        return
    request = json.loads(body or b"{}")
    fake.calls += 1
    fake.in_flight += 1
    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
    try:
        if fake.delay:
            await asyncio.sleep(fake.delay)
        texts, calls = fake.reply(request)
        if not request.get("stream"):
            writer.write(json_response(200, completion(texts, calls)))
            await writer.drain()
            return
        writer.write(head(200, {"Content-Type": "text/event-stream", "Transfer-Encoding": "chunked"}))
        for event in stream_events(texts, calls):
            data = event.encode()
            writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        writer.write(b"0\r\n\r\n")
        await writer.drain()
    finally:
        fake.in_flight -= 1


async def serve(fake: Fake, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while (request := await read_request(reader)) is not None:
            method, path, headers, body = request
            if method == "POST" and path == "/v1/chat/completions":
                await completions(fake, headers, body, writer)
            elif method == "GET" and path == "/v1/models":  # the health check's probe
                writer.write(json_response(200, {"object": "list", "data": [{"id": MODEL, "object": "model"}]}))
            elif method == "GET" and path == "/_stats":
                writer.write(json_response(200, fake.stats()))
            elif method == "POST" and path == "/_reset":
                options = json.loads(body or b"{}")
                fake.delay = float(options.get("delay", fake.delay))
                fake.mode = options.get("mode", fake.mode)
                fake.calls, fake.max_in_flight = 0, fake.in_flight
                writer.write(json_response(200, fake.stats()))
            else:
                writer.write(json_response(404, {"error": {"message": f"Unknown path {path}"}}))
            await writer.drain()
            if headers.get("connection", "").lower() == "close":
                break
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=1.0, help="seconds before each answer (default 1)")
    parser.add_argument("--mode", choices=("tool", "answer"), default="tool")
    parser.add_argument("--api-key", default="sk-bench-fake")
    args = parser.parse_args()
    fake = Fake(api_key=args.api_key, delay=args.delay, mode=args.mode)
    server = await asyncio.start_server(
        lambda r, w: serve(fake, r, w), "127.0.0.1", args.port, backlog=4096, limit=1 << 20
    )
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
