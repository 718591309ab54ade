"""Runs the registered health checks and builds the report (contract §5 "Health").

A plain check runs on the ``health`` lane of ``majed_vanna.blocking`` (a small bounded pool whose threads
are reused: no thread is started per request); an ``async def`` check is awaited on the event loop. Each
has its timeout, and the endpoint answers once it passes whatever the dependency does. Concurrent callers
in one process share one run of a check (single flight), so a hung dependency holds at most one thread.

Results are kept in the shared cache for ``HEALTH_CACHE_SECONDS`` (default 2): within that window every
request of every process answers from there, with one cache read, instead of running the checks again.
The cache holds only what the public report may show (plus the error type, shown to admins only). The read
waits at most ``CACHE_IO_TIMEOUT_SECONDS`` (a slow cache is a miss) and the write is not waited for, so a
report takes at most that plus the check timeout, whatever the cache does (the cache check reports it).

The same report backs ``GET health``, ``health/ready``, ``health/detailed`` and ``manage.py check_health``.
"""

import asyncio
import hashlib
import inspect
import logging
import os
import re
import threading
import time

import psutil
from django.conf import settings
from django.core.cache import cache
from django.db import connections

from majed_vanna import blocking
from majed_vanna.api.envelope import utc_timestamp

from .registry import HEALTHY, NOT_CONFIGURED, UNHEALTHY, CheckResult, HealthCheck, overall_status, registered_checks

logger = logging.getLogger(__name__)

LANE = "health"
CACHE_IO_TIMEOUT_SECONDS = 0.5  # a cache slower than this counts as a miss (the cache check reports it)
MESSAGES = {
    "timeout": "Timed out",
    "error": "Check failed",
    NOT_CONFIGURED: "Not configured yet; this is not a failure",
}
_PUBLIC_WORD = re.compile(r"^[a-z_]{1,32}$")
_in_flight: dict = {}  # check (name and function), or (check, loop) for async checks -> running future
_in_flight_lock = threading.Lock()
_created: tuple[int, float] | None = None  # (pid, process start time)


def uptime_seconds() -> int:
    global _created
    pid = os.getpid()
    if _created is None or _created[0] != pid:  # read once per process (a forked child has its own)
        _created = (pid, psutil.Process(pid).create_time())
    return int(time.time() - _created[1])


def _normalize(value) -> CheckResult:
    if isinstance(value, CheckResult):
        return value
    if value is None:
        return CheckResult(HEALTHY)
    return CheckResult(str(value))


def _is_public_scalar(value) -> bool:
    if value is None or isinstance(value, bool | int | float):
        return True
    return isinstance(value, str) and bool(_PUBLIC_WORD.match(value))


def public_details(details) -> dict:
    """Keep numbers, booleans, short lower-case words and nested dicts of those; drop everything else."""
    kept = {}
    for key, value in (details or {}).items():
        if _is_public_scalar(value):
            kept[str(key)] = value
        elif isinstance(value, dict):
            kept[str(key)] = public_details(value)
    return kept


def _log_failure(check: HealthCheck, exc: BaseException) -> None:
    logger.warning("Health check %s failed: %s", check.name, type(exc).__name__, exc_info=exc)


def _call_sync(check: HealthCheck) -> CheckResult:
    try:
        return _normalize(check.fn())
    except BaseException as exc:  # reported as unhealthy; the text stays in the log
        _log_failure(check, exc)
        raise
    finally:
        connections.close_all()  # this pool thread's own connections (a check may use the ORM)


async def _call_async(check: HealthCheck) -> CheckResult:
    try:
        return _normalize(await check.fn())
    except BaseException as exc:
        _log_failure(check, exc)
        raise


def _running(check: HealthCheck) -> asyncio.Future:
    """The run of ``check`` in flight in this process (started now if there is none)."""
    is_async = inspect.iscoroutinefunction(check.fn)
    loop = asyncio.get_running_loop()
    key = (check, loop) if is_async else check
    with _in_flight_lock:
        for stale in [k for k, running in _in_flight.items() if running.done()]:
            del _in_flight[stale]
        running = _in_flight.get(key)
        if running is None:
            running = loop.create_task(_call_async(check)) if is_async else blocking.submit(LANE, _call_sync, check)
            _in_flight[key] = running
    return running if is_async else asyncio.wrap_future(running)


async def _run(check: HealthCheck) -> dict:
    """One run of ``check`` as a cacheable outcome: public details only."""
    timeout = check.timeout or settings.HEALTH_CHECK_TIMEOUT_SECONDS
    started = time.perf_counter()
    try:
        result = await asyncio.wait_for(asyncio.shield(_running(check)), timeout)
    except TimeoutError:
        outcome = {"status": UNHEALTHY, "failure": "timeout"}
    except Exception as exc:
        outcome = {"status": UNHEALTHY, "failure": "error", "error": type(exc).__name__}
    else:
        outcome = {"status": result.status, "details": public_details(result.details)}
    outcome["response_time_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return outcome


def _cache_key(check: HealthCheck) -> str:
    """Per check name and function, so that a check swapped in is never answered with another's result."""
    fn = f"{getattr(check.fn, '__module__', '')}.{getattr(check.fn, '__qualname__', repr(check.fn))}"
    return f"health:check:{check.name}:{hashlib.sha256(fn.encode()).hexdigest()[:16]}"


async def _cache_call(method: str, *args) -> dict:
    """A cache call on the health lane, bounded; a failing or slow cache is a miss, never an error here."""
    try:
        return await asyncio.wait_for(
            blocking.run_in_lane(LANE, getattr(cache, method), *args), CACHE_IO_TIMEOUT_SECONDS
        )
    except Exception:  # TimeoutError included: the cache check reports the outage
        logger.debug("Health: cache %s failed; running the checks", method)
        return {}


_background: set[asyncio.Task] = set()


def _in_background(coroutine) -> None:
    task = asyncio.get_running_loop().create_task(coroutine)
    _background.add(task)  # the loop keeps only weak references to tasks
    task.add_done_callback(_background.discard)


async def check_outcomes(checks: list[HealthCheck]) -> list[dict]:
    """Each check's outcome, from the shared cache when it is fresh there, else by running it."""
    ttl = float(getattr(settings, "HEALTH_CACHE_SECONDS", 0) or 0)
    keys = [_cache_key(check) for check in checks]
    stored = (await _cache_call("get_many", keys)) if ttl > 0 else {}
    missing = [(key, check) for key, check in zip(keys, checks, strict=True) if key not in stored]
    fresh = await asyncio.gather(*(_run(check) for _, check in missing))
    if ttl > 0 and missing:
        # Not awaited: the answer never waits on the cache write (bounded anyway, and logged if it fails).
        _in_background(
            _cache_call("set_many", {key: outcome for (key, _), outcome in zip(missing, fresh, strict=True)}, ttl)
        )
    outcomes = {**stored, **{key: outcome for (key, _), outcome in zip(missing, fresh, strict=True)}}
    return [outcomes[key] for key in keys]


def render(check: HealthCheck, outcome: dict, *, include_errors: bool = False) -> dict:
    """``{status, required, [message], [error], ...details, response_time_ms}`` of one check."""
    result: dict = {"required": check.required}
    failure = outcome.get("failure")
    if failure:
        result.update(status=UNHEALTHY, message=MESSAGES[failure])
        if include_errors and outcome.get("error"):
            result["error"] = outcome["error"]
    else:
        result.update(outcome.get("details") or {}, status=outcome["status"])
        if outcome["status"] in MESSAGES:
            result["message"] = MESSAGES[outcome["status"]]
    result["response_time_ms"] = outcome["response_time_ms"]
    return {"status": result.pop("status"), **result}


async def run_check(check: HealthCheck, *, include_errors: bool = False) -> dict:
    """Run one check now (no cache) and render it."""
    return render(check, await _run(check), include_errors=include_errors)


async def health_report(*, required_only: bool = False, include_errors: bool = False) -> dict:
    """``{status, timestamp, uptime_seconds, version, checks: {name: {status, required, ...}}}``."""
    checks = registered_checks(required_only=required_only)
    outcomes = await check_outcomes(checks)
    by_name = {
        check.name: render(check, outcome, include_errors=include_errors)
        for check, outcome in zip(checks, outcomes, strict=True)
    }
    return {
        "status": overall_status(by_name),
        "timestamp": utc_timestamp(),
        "uptime_seconds": uptime_seconds(),
        "version": settings.VERSION,
        "checks": dict(sorted(by_name.items())),
    }


def health_report_sync(**kwargs) -> dict:
    """For management commands and other sync callers outside an event loop (the results are stored in the
    cache before the loop ends)."""

    async def report_and_store() -> dict:
        report = await health_report(**kwargs)
        await asyncio.gather(*_background)
        return report

    return asyncio.run(report_and_store())
