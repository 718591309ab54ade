"""Request metrics of this server process: requests per minute, error rate, mean response time and
active connections, over a sliding window of the last few minutes.

Kept in memory (no I/O on the request path); ``snapshot()`` reports this process's figures.
"""

import threading
import time
from collections import deque

WINDOW_SECONDS = 300

_lock = threading.Lock()
_active = 0
_samples: deque[tuple[float, int, float]] = deque()  # (monotonic time, status, duration_ms)


def request_started() -> None:
    global _active
    with _lock:
        _active += 1


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


def snapshot() -> dict:
    now = time.monotonic()
    with _lock:
        _trim(now)
        samples = list(_samples)
        active = _active
    last_minute = [s for s in samples if s[0] >= now - 60]
    errors = sum(1 for s in samples if s[1] >= 500)
    return {
        "requests_per_minute": len(last_minute),
        "active_connections": active,
        "error_rate": round(errors / len(samples), 4) if samples else 0.0,
        "average_response_time_ms": round(sum(s[2] for s in samples) / len(samples), 2) if samples else 0.0,
    }
