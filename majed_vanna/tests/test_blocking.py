"""``run_blocking``: blocking calls leave the event loop free, run on a bounded pool, keep the request id."""

import asyncio
import threading
import time

import pytest

from majed_vanna import blocking
from majed_vanna.request_context import current_request_id, request_id_var


@pytest.fixture
def small_pool(settings, monkeypatch):
    settings.BLOCKING_IO_MAX_WORKERS = 2
    previous = blocking.forget_pools()  # a fresh pool sized by the setting
    yield
    for pool in blocking.forget_pools():
        pool.shutdown(wait=True)
    for pool in previous:
        pool.shutdown(wait=False)


async def test_calls_are_bounded_off_the_loop_and_keep_the_request_context(small_pool):
    lock, state = threading.Lock(), {"active": 0, "peak": 0}

    def slow_call(n):
        with lock:
            state["active"] += 1
            state["peak"] = max(state["peak"], state["active"])
        time.sleep(0.2)
        with lock:
            state["active"] -= 1
        return n, threading.current_thread().name, current_request_id()

    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.02)
            ticks += 1

    request_id_var.set("req-blocking-1")
    tick_task = asyncio.create_task(ticker())
    started = time.monotonic()
    results = await asyncio.gather(*(blocking.run_blocking(slow_call, n) for n in range(6)))
    elapsed = time.monotonic() - started
    tick_task.cancel()

    assert [n for n, _, _ in results] == list(range(6))
    assert state["peak"] == 2  # never more threads than the pool allows ...
    assert elapsed >= 0.55  # ... so six 0.2 s calls take three rounds
    assert all(name.startswith("mv-blocking") for _, name, _ in results)
    assert {request_id for _, _, request_id in results} == {"req-blocking-1"}
    assert ticks >= 15  # the loop kept running while the calls blocked their threads


async def test_exceptions_reach_the_caller(small_pool):
    def broken():
        raise ValueError("nope")

    with pytest.raises(ValueError, match="nope"):
        await blocking.run_blocking(broken)


async def test_a_full_default_lane_does_not_hold_up_the_health_lane(small_pool):
    release = threading.Event()
    busy = [asyncio.ensure_future(blocking.run_blocking(release.wait, 5)) for _ in range(4)]  # 2 run, 2 queue
    try:
        started = time.monotonic()
        name = await asyncio.wait_for(blocking.run_in_lane("health", lambda: threading.current_thread().name), 2)
        assert time.monotonic() - started < 0.5
        assert name.startswith("mv-health")
    finally:
        release.set()
        await asyncio.gather(*busy)
