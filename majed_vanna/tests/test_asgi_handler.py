"""Waiting requests on async views hold no thread each (``majed_vanna.asgi_handler``; issue 15's "a thousand
waiting chats must not hold a thousand threads"), and they still answer in full, concurrently."""

import asyncio
import time

import httpx
import psutil
import pytest

import majed_vanna.urls  # noqa: F401  (loaded at collection: it imports the OpenAI SDK, which runs `uname` once)
from majed_vanna.asgi_handler import POOLS, async_view_pool

STREAMS = 60
PARTS, PAUSE = 4, 0.5  # each stream waits about 2 s in all


@pytest.mark.slow
def test_concurrent_streams_on_async_views_share_a_bounded_pool_of_threads(daphne_server):
    server = daphne_server(urls_for_tests=True)
    process = psutil.Process(server.process.pid)
    assert server.get("/api/v1/health/live").status_code == 200
    idle = process.num_threads()
    peak = idle

    async def stream(client):
        started = time.monotonic()
        response = await client.post(f"/api/v1/test/async-stream?parts={PARTS}&pause={PAUSE}")
        return response.status_code, len(response.content), time.monotonic() - started

    async def main():
        nonlocal peak
        limits = httpx.Limits(max_connections=STREAMS)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30, limits=limits) as client:
            started = time.monotonic()
            tasks = [asyncio.create_task(stream(client)) for _ in range(STREAMS)]
            while not all(t.done() for t in tasks):
                peak = max(peak, process.num_threads())
                await asyncio.sleep(0.05)
            return await asyncio.gather(*tasks), time.monotonic() - started

    results, elapsed = asyncio.run(main())
    assert [(status, size) for status, size, _ in results] == [(200, PARTS * 1000)] * STREAMS
    # Concurrent, not one after another (60 x 2 s).
    assert elapsed < PARTS * PAUSE * 4, elapsed
    # Django's own handler starts one thread per request (60 here); these share the async views' pools, and
    # the loop's default executor and the blocking lanes are started once, whatever the number of requests.
    pools = sum(default for _setting, default in POOLS.values())
    assert peak - idle <= pools + 8, (idle, peak)


@pytest.mark.parametrize(
    ("path", "pool"),
    [
        ("/api/v1/agent/chat_sse", "default"),  # async views: the shared pool
        ("/api/v1/agent/chat_poll", "default"),
        ("/api/v1/config/test-llm", "default"),
        ("/api/v1/health", "health"),  # the health views: a pool of their own
        ("/api/v1/health/live", "health"),
        ("/api/v1/users", None),  # DRF views: Django's thread per request
        ("/api/v1/auth/me", None),
        ("/no/such/path", None),
    ],
)
def test_requests_go_to_the_pool_of_their_view(path, pool):
    assert async_view_pool(path) == pool
