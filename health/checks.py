"""The checks the health app contributes itself: database, cache, system figures and circuit breakers,
plus ``not_configured`` placeholders for ``llm`` and ``data_source`` (config_api registers the real ones)."""

import uuid

import psutil
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from majed_vanna.circuit_breakers import CLOSED, all_breakers

from .registry import DEGRADED, HEALTHY, NOT_CONFIGURED, UNHEALTHY, CheckResult, register_check

SYSTEM_LIMIT_PERCENT = 95


def database_check() -> CheckResult:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        row = cursor.fetchone()
    return CheckResult(HEALTHY if row and row[0] == 1 else UNHEALTHY)


def cache_check() -> CheckResult:
    key, value = f"health:probe:{uuid.uuid4().hex}", uuid.uuid4().hex
    cache.set(key, value, timeout=10)
    ok = cache.get(key) == value
    cache.delete(key)
    return CheckResult(HEALTHY if ok else UNHEALTHY)


def prime_cpu_sample() -> None:
    """Start the CPU measurement at start-up, so the first ``system`` check has a figure to report."""
    psutil.cpu_percent(interval=None)


def system_check() -> CheckResult:
    """CPU (since the previous sample), memory and disk (of the data directory) in percent; degraded when
    memory or disk is nearly full."""
    figures = {
        "cpu_percent": psutil.cpu_percent(interval=None),  # since the previous call: never waits
        "memory_percent": psutil.virtual_memory().percent,
        "disk_percent": psutil.disk_usage(str(settings.DATA_DIR)).percent,
    }
    full = figures["memory_percent"] >= SYSTEM_LIMIT_PERCENT or figures["disk_percent"] >= SYSTEM_LIMIT_PERCENT
    return CheckResult(DEGRADED if full else HEALTHY, figures)


def circuit_breakers_check() -> CheckResult:
    """Every registered breaker's state; degraded while one is not closed (its dependency is failing)."""
    states = {breaker.name: breaker.status() for breaker in all_breakers()}
    details = {"breakers": {name: state.as_dict() for name, state in states.items()}}
    failing = any(state.state != CLOSED for state in states.values())
    return CheckResult(DEGRADED if failing else HEALTHY, details)


def not_configured_check() -> CheckResult:
    return CheckResult(NOT_CONFIGURED)


def register_builtin_checks() -> None:
    register_check("database", database_check, required=True)
    register_check("cache", cache_check, required=True)
    register_check("system", system_check, required=False)
    register_check("circuit_breakers", circuit_breakers_check, required=False)
    # Placeholders: config_api registers the real "llm" and "data_source" checks (replace=False here
    # keeps those whichever app is loaded first).
    register_check("llm", not_configured_check, required=False, replace=False)
    register_check("data_source", not_configured_check, required=False, replace=False)
