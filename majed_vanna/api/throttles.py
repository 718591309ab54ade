"""Fixed-window rate limits counted in the shared cache (Redis in production), so every server process
sees the same count (contract §3).

``hit()`` counts one request; ``majed_vanna.api.policy.throttle`` decides the scope and rate (see
``majed_vanna.api.scopes``) and raises 429. Each throttled response carries ``X-RateLimit-Limit``,
``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (``record_rate_state``; the request middleware writes them);
a 429 adds ``Retry-After``. ``hit()`` raises when the cache is unreachable, so callers decide: endpoint
throttles fail open (an outage of Redis must not turn every request, health included, into a 500), the
login lock-out does not.
"""

import logging
import time
from dataclasses import dataclass

from django.core.cache import cache

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
    """Count one request against ``scope`` for ``identity``; atomic in Redis (INCR), one round trip."""
    limit, period = parse_rate(rate)
    now = time.time()
    window = int(now // period)
    count = increment(f"rl:{scope}:{identity}:{period}:{window}", ttl=period + 1)
    reset = (window + 1) * period
    return count <= limit, RateState(limit=limit, remaining=max(0, limit - count), reset=int(reset))


def increment(key: str, *, ttl: int) -> int:
    """Add one to a counter that expires ``ttl`` seconds after it was created; returns the new count.

    On Redis this is one pipelined round trip (``INCR`` + ``EXPIRE NX``) instead of ``add`` then ``incr``;
    django-redis stores integers unpickled, so ``cache.get`` reads the same counter.
    """
    client = _redis_client()
    if client is not None:
        full_key = cache.make_and_validate_key(key)
        pipe = client.pipeline(transaction=False)
        pipe.incr(full_key)
        pipe.expire(full_key, ttl, nx=True)
        count, _ = pipe.execute()
        return int(count)
    if cache.add(key, 1, timeout=ttl):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=ttl)
        return 1


def _redis_client():
    get_client = getattr(getattr(cache, "client", None), "get_client", None)
    return get_client(write=True) if get_client is not None else None


def record_rate_state(request, state: RateState) -> None:
    """Keep the tightest state seen for this request. Kept on the Django ``HttpRequest`` (a DRF ``Request``
    reads through to it) so that ``RequestContextMiddleware`` turns it into headers for every kind of view."""
    target = getattr(request, "_request", request)
    current = getattr(target, "_rate_state", None)
    if current is None or state.remaining < current.remaining:
        target._rate_state = state
