"""Request metrics: requests per minute, error rate, mean response time and active connections, over a
sliding window of the last few minutes.

Each process keeps its own figures in memory (no I/O on the request path). With a shared cache (Redis) a
background thread in each serving process publishes its totals every ``METRICS_PUBLISH_SECONDS`` (default
5), and ``cluster_snapshot()`` adds up the live processes, so ``health/detailed`` reports the whole
deployment whichever process answers. Without Redis (one process) the figures are this process's.
"""

import logging
import os
import threading
import time
import uuid
from collections import deque

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 300
PROCESS_ID = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
_KEY_PREFIX = "metrics:proc:"

_lock = threading.Lock()
_active = 0
_samples: deque[tuple[float, int, float]] = deque()  # (monotonic time, status, duration_ms)
_publisher_started = False


def request_started() -> None:
    global _active
    with _lock:
        _active += 1
    if not _publisher_started:
        _start_publisher()


def request_finished(*, status: int, duration_ms: float) -> None:
    global _active
    now = time.monotonic()
    with _lock:
        _active = max(0, _active - 1)
        _samples.append((now, status, duration_ms))
        _trim(now)


def _trim(now: float) -> None:
    while _samples and _samples[0][0] < now - WINDOW_SECONDS:
        _samples.popleft()


def _totals() -> dict:
    """Additive figures of this process (sums and counts, so processes can be added up)."""
    now = time.monotonic()
    with _lock:
        _trim(now)
        samples = list(_samples)
        active = _active
    return {
        "last_minute": sum(1 for s in samples if s[0] >= now - 60),
        "count": len(samples),
        "errors": sum(1 for s in samples if s[1] >= 500),
        "duration_ms_sum": sum(s[2] for s in samples),
        "active": active,
    }


def _figures(totals: dict) -> dict:
    count = totals["count"]
    return {
        "requests_per_minute": totals["last_minute"],
        "active_connections": totals["active"],
        "error_rate": round(totals["errors"] / count, 4) if count else 0.0,
        "average_response_time_ms": round(totals["duration_ms_sum"] / count, 2) if count else 0.0,
    }


def snapshot() -> dict:
    """This process's figures."""
    return _figures(_totals())


def publish() -> None:
    """Put this process's totals in the shared cache (they expire if the process stops publishing)."""
    ttl = max(3 * _interval(), 5)
    cache.set(_KEY_PREFIX + PROCESS_ID, {**_totals(), "at": time.time()}, timeout=ttl)


def cluster_snapshot() -> dict:
    """Figures of every live serving process (this one counted live, the others as last published), plus
    ``processes``: how many were added up."""
    totals = _totals()
    processes = 1
    for other in _published_totals():
        processes += 1
        for name in ("last_minute", "count", "errors", "duration_ms_sum", "active"):
            totals[name] += other.get(name, 0)
    return {**_figures(totals), "processes": processes}


def _published_totals() -> list[dict]:
    if not hasattr(cache, "iter_keys"):  # local-memory cache: there is only this process
        return []
    try:
        keys = [key for key in cache.iter_keys(_KEY_PREFIX + "*") if key != _KEY_PREFIX + PROCESS_ID]
        return [value for value in cache.get_many(keys).values() if isinstance(value, dict)]
    except Exception:
        logger.warning("Could not read other processes' metrics from the cache")
        return []


def _interval() -> int:
    return int(getattr(settings, "METRICS_PUBLISH_SECONDS", 5))


def _start_publisher() -> None:
    """Started by the first request a process serves (management commands and workers never publish)."""
    global _publisher_started
    with _lock:
        if _publisher_started:
            return
        _publisher_started = True
    if _interval() > 0 and hasattr(cache, "iter_keys"):  # a shared cache to publish to
        threading.Thread(target=_publish_forever, name="metrics-publisher", daemon=True).start()


def _publish_forever() -> None:
    while True:
        try:
            publish()
        except Exception:
            logger.warning("Could not publish this process's metrics to the cache")
        time.sleep(_interval())
