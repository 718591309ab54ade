"""Circuit breakers for outside dependencies (LLM, data source), shared by every server process.

A breaker is *closed* while calls succeed. After ``circuit_breaker_failure_threshold`` consecutive failures
(runtime configuration, default 5) it *opens*: calls are refused at once with 503 SERVICE_UNAVAILABLE and
``Retry-After``. After ``circuit_breaker_timeout`` seconds (default 60) it is *half open*: one caller at a
time may try; a success closes it, a failure opens it again.

The state lives in the shared cache (Redis in production), so every process agrees; without Redis it is
per process. If the cache itself fails, the breaker lets calls through (it must not become an outage).

Usage::

    breaker = get_breaker("llm")
    with breaker.guard():                 # sync code
        call_the_llm()
    async with breaker.aguard():          # async code: cache calls run off the event loop
        await call_the_llm_async()

``guard()`` raises ``ServiceUnavailableError`` while the breaker is open and counts any exception in the
block as a failure (pass ``failure_exceptions=`` to narrow that).

The threshold and timeout are read from the runtime configuration without touching the database (the values
this process last loaded, else the defaults; ``majed_vanna.runtime.runtime_value(database=False)``).
"""

import asyncio
import contextlib
import logging
import threading
import time
from dataclasses import dataclass

from django.core.cache import cache

from .exceptions import ServiceUnavailableError
from .runtime import runtime_value

logger = logging.getLogger(__name__)

CLOSED, OPEN, HALF_OPEN, UNKNOWN = "closed", "open", "half_open", "unknown"
DEFAULT_FAILURE_THRESHOLD = 5
DEFAULT_TIMEOUT_SECONDS = 60
_KEEP_SECONDS = 7 * 24 * 3600  # state keys outlive any sensible timeout


@dataclass(frozen=True)
class BreakerState:
    name: str
    state: str
    failures: int
    retry_after: int  # seconds until a half-open probe is allowed (0 unless open)

    def as_dict(self) -> dict:
        return {"state": self.state, "failures": self.failures, "retry_after": self.retry_after}


class CircuitBreaker:
    def __init__(self, name: str, *, failure_threshold: int | None = None, timeout: int | None = None):
        self.name = name
        self._failure_threshold = failure_threshold
        self._timeout = timeout
        prefix = f"cb:{name}"
        self._failures_key, self._opened_key, self._probe_key = (
            f"{prefix}:failures",
            f"{prefix}:opened",
            f"{prefix}:probe",
        )

    # --- configuration (runtime configuration unless fixed at construction). Read without the database:
    # ``aguard()`` runs these on pool threads whose database connections nobody would ever close.
    @property
    def failure_threshold(self) -> int:
        value = self._failure_threshold or runtime_value(
            "circuit_breaker_failure_threshold", DEFAULT_FAILURE_THRESHOLD, database=False
        )
        return max(1, int(value))

    @property
    def timeout(self) -> int:
        value = self._timeout or runtime_value("circuit_breaker_timeout", DEFAULT_TIMEOUT_SECONDS, database=False)
        return max(1, int(value))

    # --- reading
    def status(self) -> BreakerState:
        try:
            values = cache.get_many([self._failures_key, self._opened_key])
        except Exception:
            logger.warning("Circuit breaker %s: cache unavailable", self.name)
            return BreakerState(self.name, UNKNOWN, 0, 0)
        failures = int(values.get(self._failures_key) or 0)
        opened = values.get(self._opened_key)
        if opened is None:
            return BreakerState(self.name, CLOSED, failures, 0)
        remaining = int(float(opened) + self.timeout - time.time() + 0.999)
        if remaining > 0:
            return BreakerState(self.name, OPEN, failures, remaining)
        return BreakerState(self.name, HALF_OPEN, failures, 0)

    @property
    def state(self) -> str:
        return self.status().state

    # --- the call protocol
    def before_call(self) -> None:
        """Raise ``ServiceUnavailableError`` unless a call may go ahead now."""
        current = self.status()
        if current.state == OPEN:
            raise ServiceUnavailableError(f"{self.name} is temporarily unavailable", retry_after=current.retry_after)
        if current.state == HALF_OPEN and not self._claim_probe():
            raise ServiceUnavailableError(f"{self.name} is temporarily unavailable", retry_after=1)

    def _claim_probe(self) -> bool:
        try:
            return bool(cache.add(self._probe_key, 1, timeout=max(5, min(self.timeout, 60))))
        except Exception:
            return True

    def record_success(self) -> None:
        try:
            was_open = cache.get(self._opened_key) is not None
            cache.delete_many([self._failures_key, self._opened_key, self._probe_key])
        except Exception:
            logger.warning("Circuit breaker %s: cache unavailable", self.name)
            return
        if was_open:
            logger.info("Circuit breaker %s closed", self.name)

    def record_failure(self) -> None:
        try:
            if cache.get(self._opened_key) is not None:  # a half-open probe failed: open again
                cache.set(self._opened_key, time.time(), timeout=_KEEP_SECONDS)
                cache.delete(self._probe_key)
                logger.warning("Circuit breaker %s re-opened", self.name)
                return
            added = cache.add(self._failures_key, 1, timeout=_KEEP_SECONDS)
            failures = 1 if added else cache.incr(self._failures_key)
            if failures >= self.failure_threshold and cache.add(self._opened_key, time.time(), timeout=_KEEP_SECONDS):
                logger.warning("Circuit breaker %s opened after %d consecutive failures", self.name, failures)
        except Exception:
            logger.warning("Circuit breaker %s: cache unavailable", self.name)

    def reset(self) -> None:
        """Close the breaker and forget its failures (an operator's reset)."""
        cache.delete_many([self._failures_key, self._opened_key, self._probe_key])
        logger.info("Circuit breaker %s reset", self.name)

    @contextlib.contextmanager
    def guard(self, *, failure_exceptions: tuple[type[BaseException], ...] = (Exception,)):
        self.before_call()
        try:
            yield self
        except failure_exceptions:
            self.record_failure()
            raise
        self.record_success()

    @contextlib.asynccontextmanager
    async def aguard(self, *, failure_exceptions: tuple[type[BaseException], ...] = (Exception,)):
        await asyncio.to_thread(self.before_call)
        try:
            yield self
        except failure_exceptions:
            await asyncio.to_thread(self.record_failure)
            raise
        await asyncio.to_thread(self.record_success)

    async def astatus(self) -> BreakerState:
        return await asyncio.to_thread(self.status)

    async def areset(self) -> None:
        await asyncio.to_thread(self.reset)


_registry: dict[str, CircuitBreaker] = {}
_registry_lock = threading.Lock()


def register_breaker(name: str, **options) -> CircuitBreaker:
    """Declare a breaker (apps do this at import or in ``AppConfig.ready``); returns the existing one if any."""
    with _registry_lock:
        if name not in _registry:
            _registry[name] = CircuitBreaker(name, **options)
        return _registry[name]


def get_breaker(name: str) -> CircuitBreaker:
    return register_breaker(name)


def find_breaker(name: str) -> CircuitBreaker | None:
    return _registry.get(name)


def all_breakers() -> list[CircuitBreaker]:
    with _registry_lock:
        return [_registry[name] for name in sorted(_registry)]
