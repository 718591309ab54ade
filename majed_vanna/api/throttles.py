"""Fixed-window rate limits counted in the shared cache (Redis in production), so every server process
sees the same count (contract §3).

Views declare their rates next to themselves::

    throttle_rates = {"list": "100/hour", "create": "50/hour"}   # by ViewSet action (or HTTP method)

Endpoints that declare none get the global default (``DEFAULT_THROTTLE_RATE``, replaced at run time by
``rate_limit_max_requests``/``rate_limit_window`` of the runtime configuration). Each throttled response carries
``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset``; a 429 adds ``Retry-After``.

If the cache is unreachable the endpoint throttles fail open (logged): an outage of Redis must not turn
every request, health included, into a 500. ``hit()`` itself raises, so callers guarding security
(login lock-out) decide for themselves.
"""

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from majed_vanna.runtime import runtime_value

from .callers import caller_key

logger = logging.getLogger(__name__)

_PERIODS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}


def default_rate() -> str:
    """The global default per caller: ``rate_limit_max_requests`` per ``rate_limit_window`` seconds from the
    runtime configuration, else ``DEFAULT_THROTTLE_RATE``."""
    max_requests = runtime_value("rate_limit_max_requests", None)
    window = runtime_value("rate_limit_window", None)
    if max_requests and window:
        return f"{int(max_requests)}/{int(window)}s"
    return settings.DEFAULT_THROTTLE_RATE


def parse_rate(rate: str) -> tuple[int, int]:
    """``"5/minute"``, ``"100/hour"``, ``"60/30s"`` -> (requests, seconds)."""
    count, _, period = rate.partition("/")
    period = period.strip().lower()
    digits = "".join(ch for ch in period if ch.isdigit())
    unit = period[len(digits) :] or "s"
    if unit not in _PERIODS:
        raise ValueError(f"Unknown rate period in {rate!r}")
    return int(count), int(digits or 1) * _PERIODS[unit]


@dataclass
class RateState:
    limit: int
    remaining: int
    reset: int  # UTC epoch seconds when the window ends

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


def hit(*, scope: str, identity: str, rate: str) -> tuple[bool, RateState]:
    """Count one request against ``scope`` for ``identity``; atomic in Redis (INCR)."""
    limit, period = parse_rate(rate)
    now = time.time()
    window = int(now // period)
    key = f"rl:{scope}:{identity}:{period}:{window}"
    if cache.add(key, 1, timeout=period + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=period + 1)
            count = 1
    reset = (window + 1) * period
    return count <= limit, RateState(limit=limit, remaining=max(0, limit - count), reset=int(reset))


def record_rate_state(request, state: RateState) -> None:
    """Keep the tightest state seen for this request. Kept on the Django ``HttpRequest`` (a DRF ``Request``
    reads through to it) so that ``RequestContextMiddleware`` turns it into headers for every kind of view."""
    target = getattr(request, "_request", request)
    current = getattr(target, "_rate_state", None)
    if current is None or state.remaining < current.remaining:
        target._rate_state = state


class EndpointRateThrottle(BaseThrottle):
    """Per-endpoint, per-caller rate from the view's ``throttle_rates`` (by action or method)."""

    def rate_for(self, request, view) -> tuple[str, str]:
        rates = getattr(view, "throttle_rates", None) or {}
        action = getattr(view, "action", None)
        for key in (action, request.method.lower(), request.method.upper()):
            if key and key in rates:
                return rates[key], f"{view.__class__.__name__}.{key}"
        return default_rate(), "default"

    def allow_request(self, request, view):
        if getattr(view, "throttle_exempt", False):
            return True
        rate, scope = self.rate_for(request, view)
        try:
            allowed, state = hit(scope=scope, identity=caller_key(request), rate=rate)
        except Exception:  # the cache (Redis) is down: serve rather than fail every request
            logger.warning("Rate limit not counted: the cache is unavailable", exc_info=True)
            return True
        record_rate_state(request, state)
        self._wait = max(1, state.reset - int(time.time()))
        return allowed

    def wait(self):
        return getattr(self, "_wait", 1)
