"""The Redis cache's connections: short timeouts from the environment, and the per-process breaker that fails
fast for a few seconds after a failure, then lets one probe through (``majed_vanna.cache_client``)."""

import json
import subprocess
import sys
import threading
import time

import pytest
from redis.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError

from majed_vanna import cache_client
from majed_vanna.cache_client import BreakerConnectionPool, CacheBreaker, CacheMarkedDown, with_breaker
from majed_vanna.tests.servers import BASE_DIR, closed_port, server_env


def _in_other_thread(fn):
    result = []
    thread = threading.Thread(target=lambda: result.append(fn()))
    thread.start()
    thread.join()
    return result[0]


def test_the_breaker_fails_fast_after_a_failure_then_lets_one_probe_through():
    breaker = CacheBreaker(seconds=0.2)
    assert breaker.allow()
    breaker.failed()
    assert breaker.is_open
    assert not breaker.allow() and not _in_other_thread(breaker.allow)
    time.sleep(0.25)
    assert breaker.allow()  # this thread probes...
    assert breaker.allow()  # ...for as many commands as its probe needs (the connection's handshake)
    assert not _in_other_thread(breaker.allow)  # the others keep failing fast meanwhile
    breaker.succeeded()
    assert not breaker.is_open
    assert _in_other_thread(breaker.allow)


def test_a_failed_probe_opens_the_breaker_again():
    breaker = CacheBreaker(seconds=0.2)
    breaker.failed()
    time.sleep(0.25)
    assert breaker.allow()
    breaker.failed()
    assert not breaker.allow() and not _in_other_thread(breaker.allow)


@pytest.fixture
def breaker():
    """A breaker of the test's own; the process's own is back before the cache is cleaned (with Redis)."""
    fresh, real = CacheBreaker(seconds=30), cache_client.breaker
    cache_client.breaker = fresh
    yield fresh
    cache_client.breaker = real


def test_a_connection_that_fails_trips_the_breaker_and_the_next_call_fails_at_once(breaker):
    connection = with_breaker(Connection)(host="127.0.0.1", port=closed_port(), socket_connect_timeout=0.5)
    with pytest.raises(RedisConnectionError) as first:
        connection.send_command("PING")
    assert not isinstance(first.value, CacheMarkedDown)
    assert breaker.is_open
    opened_until = breaker._open_until
    started = time.monotonic()
    with pytest.raises(CacheMarkedDown):
        connection.send_command("PING")
    assert time.monotonic() - started < 0.05
    assert breaker._open_until == opened_until  # a refusal is not a new failure: the window does not move


def test_the_pool_mixes_the_breaker_into_the_url_s_connection_class():
    pool = BreakerConnectionPool.from_url("redis://127.0.0.1:6399/3", socket_timeout=1)
    assert issubclass(pool.connection_class, Connection)
    assert issubclass(pool.connection_class, cache_client.BreakerConnectionMixin)
    assert with_breaker(Connection) is with_breaker(Connection)


PROBE = "import json, majed_vanna.settings as s; print(json.dumps(s.CACHES['default'].get('OPTIONS', {})))"


@pytest.mark.slow  # evaluates the settings in a fresh interpreter
def test_cache_timeouts_come_from_the_environment(tmp_path):
    def options(**extra):
        env = server_env(data_dir=tmp_path, settings_module="majed_vanna.settings", extra=extra)
        result = subprocess.run(
            [sys.executable, "-c", PROBE], cwd=BASE_DIR, env=env, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    defaults = options(REDIS_URL="redis://127.0.0.1:6399/0")
    assert (defaults["SOCKET_CONNECT_TIMEOUT"], defaults["SOCKET_TIMEOUT"]) == (0.5, 1.0)
    assert defaults["CONNECTION_POOL_CLASS"] == "majed_vanna.cache_client.BreakerConnectionPool"
    tuned = options(
        REDIS_URL="redis://127.0.0.1:6399/0", CACHE_CONNECT_TIMEOUT_SECONDS="0.2", CACHE_SOCKET_TIMEOUT_SECONDS="0.3"
    )
    assert (tuned["SOCKET_CONNECT_TIMEOUT"], tuned["SOCKET_TIMEOUT"]) == (0.2, 0.3)
