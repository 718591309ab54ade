"""On a real daphne process, ``health/live`` stays fast (p95 < 50 ms) while twenty slow LLM connection
tests run: they wait on the provider without holding the event loop, sharing one pooled client
(``majed_vanna.http_clients``; ``test_probes.py`` shows that no client is created per call any more).

The window measured is the one in which all twenty are waiting on the provider. Their starts and ends cost
what any request costs (on a busy 2-core machine that alone moves a p95), so ``bench/platform.py`` reports
the whole span separately.
"""

import asyncio
import statistics
import time

import httpx
import pytest

from config_api.tests.test_server_concurrency import admin_server, silent_database  # noqa: F401 - fixtures

pytestmark = pytest.mark.slow

TESTS = 20
DELAY = 3.0  # seconds the fake provider waits before it answers each connection test
PROBERS = 4  # concurrent health/live pollers
STAGGER = 0.05  # seconds between two connection tests' starts: twenty admins do not click in one millisecond


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


async def test_live_stays_fast_while_twenty_slow_llm_tests_run(admin_server, fake_llm):  # noqa: F811
    server, headers = admin_server
    fake_llm.delay = DELAY
    samples: list[tuple[float, float]] = []  # (sent at, latency in ms)

    async def poll(client: httpx.AsyncClient, until: asyncio.Event) -> None:
        while not until.is_set():
            started = time.perf_counter()
            response = await client.get("/api/v1/health/live")
            samples.append((started, (time.perf_counter() - started) * 1000))
            assert response.status_code == 200
            await asyncio.sleep(0.01)

    async with (
        httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=30) as tests_client,
        httpx.AsyncClient(base_url=server.base_url, timeout=10) as probe_client,
    ):
        for _ in range(3):  # warm the connections and the process
            await probe_client.get("/api/v1/health/live")
        done = asyncio.Event()
        pollers = [asyncio.create_task(poll(probe_client, done)) for _ in range(PROBERS)]
        tests = []
        for _ in range(TESTS):
            tests.append(asyncio.create_task(tests_client.post("/api/v1/config/test-llm")))
            await asyncio.sleep(STAGGER)
        await asyncio.to_thread(fake_llm.wait_for_requests, TESTS, timeout=10)
        all_waiting = time.perf_counter()
        await asyncio.wait(tests, return_when=asyncio.FIRST_COMPLETED)
        first_answer = time.perf_counter()
        results = await asyncio.gather(*tests)
        done.set()
        await asyncio.gather(*pollers)
    assert [r.json()["data"]["status"] for r in results] == ["success"] * TESTS, results[0].text
    assert fake_llm.count(method="POST", path_suffix="/chat/completions") == TESTS
    assert first_answer - all_waiting > 1  # a real window in which all twenty were waiting
    during = [latency for sent, latency in samples if all_waiting <= sent < first_answer]
    assert len(during) >= 20
    assert p95(during) < 50, (p95(during), max(during), len(during))
