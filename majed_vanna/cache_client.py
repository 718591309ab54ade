"""The Redis cache's connections, with a per-process "cache is down" breaker (README "Production").

Redis that is killed refuses connections at once; Redis that hangs (stopped, swapping, a network black
hole) accepts them and never answers, so every command waits its full socket timeout
(``CACHE_SOCKET_TIMEOUT_SECONDS``). Without a breaker each request pays that wait once per cache call
(throttle, runtime configuration, health cache...). Here the first command that fails trips the breaker:
for ``CACHE_BREAKER_SECONDS`` every command of this process fails at once with ``redis.ConnectionError``
(which callers already handle: a 503, or fail open where that is the rule). Then one command (the probe,
on one thread) is let through; its answer closes the breaker, its failure opens it again. A hung Redis
costs one timeout per window per process, not one per request.

Wired in by ``CACHES["default"]["OPTIONS"]["CONNECTION_POOL_CLASS"]`` (settings); whatever connection class
the URL asks for (TCP, TLS, Unix socket) gets the breaker mixed in.

``CACHE_ERRORS`` are the exceptions that mean "the cache cannot be reached": code that runs after a commit
catches them, logs and moves on (an acknowledged write must not become a 503).
"""

import logging
import threading
import time

from django.conf import settings
from django_redis.exceptions import ConnectionInterrupted
from redis.connection import ConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

CACHE_ERRORS = (ConnectionInterrupted, RedisConnectionError, RedisTimeoutError)
_UNREACHABLE = (RedisConnectionError, RedisTimeoutError)


class CacheMarkedDown(RedisConnectionError):
    """Refused without trying: the breaker is open. Not a new failure (it does not extend the window)."""


class CacheBreaker:
    """Open (fail fast) for ``seconds`` after a failure; then one probe at a time, on one thread."""

    def __init__(self, seconds: float | None = None):
        self._seconds = seconds
        self._lock = threading.Lock()
        self._tripped = False
        self._open_until = 0.0
        self._prober: int | None = None

    @property
    def seconds(self) -> float:
        return float(self._seconds if self._seconds is not None else settings.CACHE_BREAKER_SECONDS)

    @property
    def is_open(self) -> bool:
        return self._tripped and time.monotonic() < self._open_until

    def allow(self) -> bool:
        """May this thread talk to Redis now?"""
        if not self._tripped:
            return True
        with self._lock:
            now = time.monotonic()
            if now < self._open_until:
                return self._prober == threading.get_ident()
            # The window is over: this thread probes; the others keep failing fast until it has its answer.
            self._prober = threading.get_ident()
            self._open_until = now + _probe_seconds()
            return True

    def failed(self) -> None:
        with self._lock:
            if not self._tripped:
                logger.warning("Cache unreachable: failing fast for %ss", self.seconds)
            self._tripped, self._prober = True, None
            self._open_until = time.monotonic() + self.seconds

    def succeeded(self) -> None:
        if self._tripped:
            with self._lock:
                if self._tripped:
                    logger.warning("Cache reachable again")
                self._tripped, self._prober, self._open_until = False, None, 0.0

    def reset(self) -> None:
        self.succeeded()


breaker = CacheBreaker()


def _probe_seconds() -> float:
    """How long a probe may take before another thread may probe instead."""
    options = settings.CACHES["default"].get("OPTIONS", {})
    return float(options.get("SOCKET_CONNECT_TIMEOUT") or 1) + float(options.get("SOCKET_TIMEOUT") or 1) + 1


class BreakerConnectionMixin:
    """Fails fast while the breaker is open; reports every failure and answer to it."""

    def connect(self, *args, **kwargs):
        try:
            return super().connect(*args, **kwargs)  # its handshake commands come through send_packed_command
        except CacheMarkedDown:
            raise
        except _UNREACHABLE:
            breaker.failed()
            raise

    def send_packed_command(self, command, check_health=True):
        if not breaker.allow():
            raise CacheMarkedDown("The cache was unreachable moments ago; not retried yet")
        try:
            return super().send_packed_command(command, check_health=check_health)
        except _UNREACHABLE:
            breaker.failed()
            raise

    def read_response(self, *args, **kwargs):
        try:
            response = super().read_response(*args, **kwargs)
        except _UNREACHABLE:
            breaker.failed()
            raise
        breaker.succeeded()
        return response


_classes: dict[type, type] = {}


def with_breaker(connection_class: type) -> type:
    if issubclass(connection_class, BreakerConnectionMixin):
        return connection_class
    if connection_class not in _classes:
        name = f"Breaker{connection_class.__name__}"
        _classes[connection_class] = type(name, (BreakerConnectionMixin, connection_class), {})
    return _classes[connection_class]


class BreakerConnectionPool(ConnectionPool):
    """``redis.ConnectionPool`` whose connections report to ``breaker``."""

    def __init__(self, connection_class=None, **kwargs):
        if connection_class is None:
            from redis.connection import Connection

            connection_class = Connection
        super().__init__(connection_class=with_breaker(connection_class), **kwargs)
