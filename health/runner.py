"""Runs the registered health checks off the event loop and builds the report (contract §5 "Health").

Each check runs in its own daemon thread with a timeout. Concurrent requests share one run of a check
(single flight), so a hung dependency holds at most one thread per check, and the endpoint answers once
the timeout passes whatever the dependency does. The same report backs ``GET health``, ``health/ready``,
``health/detailed`` and ``manage.py check_health``.
"""

import asyncio
import contextvars
import logging
import re
import threading
import time
from concurrent.futures import Future

import psutil
from django.conf import settings
from django.db import connections

from majed_vanna.api.envelope import utc_timestamp

from .registry import HEALTHY, NOT_CONFIGURED, UNHEALTHY, CheckResult, HealthCheck, overall_status, registered_checks

logger = logging.getLogger(__name__)

MESSAGES = {
    "timeout": "Timed out",
    "error": "Check failed",
    NOT_CONFIGURED: "Not configured yet; this is not a failure",
}
_PUBLIC_WORD = re.compile(r"^[a-z_]{1,32}$")
_in_flight: dict[HealthCheck, Future] = {}  # by check (name and function): a replaced check runs afresh
_in_flight_lock = threading.Lock()


def uptime_seconds() -> int:
    return int(time.time() - psutil.Process().create_time())


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


def _run_into(check: HealthCheck, future: Future) -> None:
    try:
        result = _normalize(check.fn())
    except BaseException as exc:  # reported as unhealthy; the text stays in the log
        logger.warning("Health check %s failed: %s", check.name, type(exc).__name__, exc_info=True)
        future.set_exception(exc)
    else:
        future.set_result(result)
    finally:
        connections.close_all()  # this thread's own connections; the thread ends now


def _submit(check: HealthCheck) -> Future:
    with _in_flight_lock:
        for stale in [key for key, running in _in_flight.items() if running.done()]:
            del _in_flight[stale]
        running = _in_flight.get(check)
        if running is not None:
            return running
        future: Future = Future()
        _in_flight[check] = future
    context = contextvars.copy_context()  # the request id reaches the check's log lines
    threading.Thread(
        target=context.run, args=(_run_into, check, future), name=f"health-{check.name}", daemon=True
    ).start()
    return future


async def run_check(check: HealthCheck, *, include_errors: bool = False) -> dict:
    timeout = check.timeout or settings.HEALTH_CHECK_TIMEOUT_SECONDS
    started = time.perf_counter()
    result: dict = {"required": check.required}
    try:
        outcome = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(_submit(check))), timeout)
    except TimeoutError:
        result.update(status=UNHEALTHY, message=MESSAGES["timeout"])
    except Exception as exc:
        result.update(status=UNHEALTHY, message=MESSAGES["error"])
        if include_errors:
            result["error"] = type(exc).__name__
    else:
        result.update(public_details(outcome.details), status=outcome.status)
        if outcome.status in MESSAGES:
            result["message"] = MESSAGES[outcome.status]
    result["response_time_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return {"status": result.pop("status"), **result}


async def health_report(*, required_only: bool = False, include_errors: bool = False) -> dict:
    """``{status, timestamp, uptime_seconds, version, checks: {name: {status, required, ...}}}``."""
    checks = registered_checks(required_only=required_only)
    results = await asyncio.gather(*(run_check(check, include_errors=include_errors) for check in checks))
    by_name = {check.name: result for check, result in zip(checks, results, strict=True)}
    return {
        "status": overall_status(by_name),
        "timestamp": utc_timestamp(),
        "uptime_seconds": uptime_seconds(),
        "version": settings.VERSION,
        "checks": dict(sorted(by_name.items())),
    }


def health_report_sync(**kwargs) -> dict:
    """For management commands and other sync callers outside an event loop."""
    return asyncio.run(health_report(**kwargs))
