"""The health runner's cost per request: no thread started per check, a CPU sample that never waits,
results shared through the cache for ``HEALTH_CACHE_SECONDS``, async checks awaited on the loop."""

import asyncio
import threading
import time

import psutil
import pytest
from django.core.cache import cache

from health import checks, runner
from health.registry import DEGRADED, HEALTHY, UNHEALTHY, CheckResult, HealthCheck, check_overridden
from majed_vanna import blocking


class Counting:
    """A check that counts its runs (and may sleep or fail)."""

    def __init__(self, *, sleep: float = 0.0, error: Exception | None = None, status=HEALTHY):
        self.calls, self.sleep, self.error, self.status = 0, sleep, error, status
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            self.calls += 1
        time.sleep(self.sleep)
        if self.error:
            raise self.error
        return CheckResult(self.status, {"latency_ms": 3, "host": "db.internal.example"})


@pytest.fixture
def cached(settings):
    settings.HEALTH_CACHE_SECONDS = 2


def test_the_cpu_sample_never_waits(monkeypatch):
    intervals = []
    real = psutil.cpu_percent
    monkeypatch.setattr(psutil, "cpu_percent", lambda interval=None: intervals.append(interval) or real(None))
    started = time.perf_counter()
    result = checks.system_check()
    assert time.perf_counter() - started < 0.05
    assert intervals == [None]
    assert {"cpu_percent", "memory_percent", "disk_percent"} <= set(result.details)


def test_no_thread_is_started_per_check_per_request(db, monkeypatch):
    runner.health_report_sync()  # the lane's threads exist from now on
    starts = []
    real_start = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda self: starts.append(self.name) or real_start(self))
    for _ in range(10):
        assert runner.health_report_sync()["status"] == HEALTHY
    # Six checks ten times: sixty threads before; now the health lane's reused threads, at most its size.
    assert len(starts) <= blocking.max_workers("health"), starts


def test_checks_run_on_the_bounded_health_lane(db):
    names = []
    with check_overridden("llm", lambda: names.append(threading.current_thread().name), required=False):
        runner.health_report_sync()
    assert len(names) == 1 and names[0].startswith("mv-health")


def test_results_are_shared_through_the_cache_within_the_window(db, cached):
    probe = Counting()
    with check_overridden("llm", probe, required=False):
        reports = [runner.health_report_sync() for _ in range(3)]
        assert probe.calls == 1  # the two later reports were answered from the shared cache
        assert reports[0]["checks"] == reports[1]["checks"] == reports[2]["checks"]
        assert reports[2]["checks"]["llm"] == {
            "status": HEALTHY,
            "required": False,
            "latency_ms": 3,
            "response_time_ms": reports[0]["checks"]["llm"]["response_time_ms"],
        }  # details filtered as ever: no host
        cache.clear()  # another process would find them there too; without them, the checks run again
        runner.health_report_sync()
        assert probe.calls == 2


def test_the_cache_expires_after_the_window(db, settings):
    settings.HEALTH_CACHE_SECONDS = 0.3
    probe = Counting()
    with check_overridden("llm", probe, required=False):
        runner.health_report_sync()
        runner.health_report_sync()
        time.sleep(0.4)
        runner.health_report_sync()
    assert probe.calls == 2


def test_a_swapped_in_check_is_not_answered_from_the_previous_ones_cache(db, cached):
    with check_overridden("llm", Counting(status=HEALTHY), required=False):
        assert runner.health_report_sync()["checks"]["llm"]["status"] == HEALTHY

    def other():
        return CheckResult(DEGRADED)

    with check_overridden("llm", other, required=False):
        assert runner.health_report_sync()["checks"]["llm"]["status"] == DEGRADED


def test_cached_failures_keep_the_public_and_the_detailed_output(db, cached):
    probe = Counting(error=ConnectionError("db.internal.example:5432 refused"))
    with check_overridden("llm", probe, required=False):
        public = runner.health_report_sync()["checks"]["llm"]
        detailed = runner.health_report_sync(include_errors=True)["checks"]["llm"]
    assert probe.calls == 1
    assert public["status"] == UNHEALTHY and public["message"] == "Check failed" and "error" not in public
    assert detailed["error"] == "ConnectionError"
    assert "db.internal" not in str(cache.get_many([runner._cache_key(HealthCheck("llm", probe, False))]))


def test_a_hung_check_times_out_and_the_timeout_is_cached(db, cached):
    probe = Counting(sleep=1.5)
    with check_overridden("llm", probe, required=False, timeout=0.2):
        first = runner.health_report_sync()["checks"]["llm"]
        started = time.monotonic()
        second = runner.health_report_sync()["checks"]["llm"]
        elapsed = time.monotonic() - started
    assert first["message"] == second["message"] == "Timed out"
    assert elapsed < 0.15  # the second report did not wait for the hung check again
    assert probe.calls == 1


async def test_concurrent_callers_share_one_run_of_a_check():
    probe = Counting(sleep=0.2)
    check = HealthCheck("shared", probe, required=False)
    results = await asyncio.gather(*(runner.run_check(check) for _ in range(5)))
    assert probe.calls == 1
    assert {result["status"] for result in results} == {HEALTHY}


async def test_async_checks_are_awaited_on_the_loop_with_their_timeout():
    loop_thread = threading.current_thread().name
    seen = []

    async def reachable():
        await asyncio.sleep(0.01)
        seen.append(threading.current_thread().name)
        return CheckResult(DEGRADED, {"reason": "rate_limited", "url": "https://secret.example"})

    async def hangs():
        await asyncio.sleep(5)

    result = await runner.run_check(HealthCheck("async-ok", reachable, required=False))
    assert result["status"] == DEGRADED and result["reason"] == "rate_limited" and "url" not in result
    assert seen == [loop_thread]
    started = time.monotonic()
    hung = await runner.run_check(HealthCheck("async-hung", hangs, required=False, timeout=0.2))
    assert hung["status"] == UNHEALTHY and hung["message"] == "Timed out"
    assert time.monotonic() - started < 1
