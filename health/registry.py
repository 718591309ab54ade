"""The health-check registry: each app contributes the checks of what it depends on (contract §5 "Health").

::

    # agent/apps.py, in ready()
    from health.registry import CheckResult, register_check
    register_check("llm", llm_check, required=False)

A check is a function returning a ``CheckResult``, a status string, or ``None`` (healthy); raising means
unhealthy. A plain function runs on the health lane of ``majed_vanna.blocking`` (a small bounded pool)
with a timeout, so it may do blocking I/O; an ``async def`` check (for what can be awaited, e.g. an HTTP
call through ``majed_vanna.http_clients``) is awaited on the event loop with the same timeout. Results are
cached for ``HEALTH_CACHE_SECONDS`` (``health.runner``). Its
``details`` must hold figures and states only (numbers, booleans, short lower-case words); anything else
is dropped before it reaches a response, so a host name or an error text can never leak.

Statuses: ``healthy``, ``degraded`` (works, but something is wrong), ``unhealthy``, and ``not_configured``
(the dependency is not set up yet; never a failure). Overall: ``unhealthy`` when a *required* check is
unhealthy, ``degraded`` when an optional check is unhealthy or any check is degraded, else ``healthy``.
"""

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

HEALTHY, DEGRADED, UNHEALTHY, NOT_CONFIGURED = "healthy", "degraded", "unhealthy", "not_configured"
STATUSES = (HEALTHY, DEGRADED, UNHEALTHY, NOT_CONFIGURED)


@dataclass(frozen=True)
class CheckResult:
    status: str = HEALTHY
    details: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"Unknown health status {self.status!r}")


@dataclass(frozen=True)
class HealthCheck:
    name: str
    fn: Callable[[], "CheckResult | str | None"]
    required: bool
    timeout: float | None = None  # seconds; None: settings.HEALTH_CHECK_TIMEOUT_SECONDS


_checks: dict[str, HealthCheck] = {}
_lock = threading.Lock()


def register_check(
    name: str, fn: Callable, *, required: bool, timeout: float | None = None, replace: bool = True
) -> None:
    """Add (or, with ``replace``, swap in) the check called ``name``.

    ``required=True``: the service cannot work without it (``health/ready`` answers 503 while it fails).
    Placeholders register with ``replace=False`` so that an app's real check wins whatever the app order.
    """
    with _lock:
        if replace or name not in _checks:
            _checks[name] = HealthCheck(name=name, fn=fn, required=required, timeout=timeout)


def unregister_check(name: str) -> None:
    with _lock:
        _checks.pop(name, None)


def registered_checks(*, required_only: bool = False) -> list[HealthCheck]:
    with _lock:
        checks = list(_checks.values())
    return [check for check in checks if check.required or not required_only]


@contextlib.contextmanager
def check_overridden(name: str, fn: Callable, *, required: bool, timeout: float | None = None):
    """Swap a check in for the duration of a ``with`` block (tests), then put the previous one back."""
    with _lock:
        previous = _checks.get(name)
    register_check(name, fn, required=required, timeout=timeout)
    try:
        yield
    finally:
        with _lock:
            if previous is None:
                _checks.pop(name, None)
            else:
                _checks[name] = previous


def overall_status(results: dict[str, dict]) -> str:
    statuses = [(result["status"], result["required"]) for result in results.values()]
    if any(status == UNHEALTHY and required for status, required in statuses):
        return UNHEALTHY
    if any(status in (UNHEALTHY, DEGRADED) for status, _ in statuses):
        return DEGRADED
    return HEALTHY
