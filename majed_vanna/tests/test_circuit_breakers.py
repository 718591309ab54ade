"""Circuit breakers: closed -> open after N consecutive failures -> half open after the timeout -> closed
on a successful probe; state in the shared cache so every process (and every instance) agrees."""

import asyncio
import contextlib
import threading
import time

import pytest
import time_machine
from django.db import connection as db_connection
from django.db.backends.signals import connection_created

from majed_vanna.circuit_breakers import CLOSED, HALF_OPEN, OPEN, CircuitBreaker, get_breaker
from majed_vanna.exceptions import ServiceUnavailableError
from majed_vanna.runtime import set_runtime_config_provider


class Boom(Exception):
    pass


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        with pytest.raises(Boom), breaker.guard():
            raise Boom


@pytest.fixture
def runtime_config():
    values = {"circuit_breaker_failure_threshold": 3, "circuit_breaker_timeout": 30}
    set_runtime_config_provider(lambda: values)
    yield values
    set_runtime_config_provider(None)


def test_opens_after_threshold_of_consecutive_failures(runtime_config):
    breaker = CircuitBreaker("dep-a")
    fail(breaker, 2)
    assert breaker.state == CLOSED
    with breaker.guard():  # a success resets the count
        pass
    fail(breaker, 2)
    assert breaker.state == CLOSED
    fail(breaker, 1)
    assert breaker.state == OPEN
    with pytest.raises(ServiceUnavailableError) as refused, breaker.guard():
        raise AssertionError("an open breaker must not call through")
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 30
    assert refused.value.status_code == 503 and refused.value.code == "SERVICE_UNAVAILABLE"


def test_threshold_and_timeout_follow_the_runtime_configuration(runtime_config):
    runtime_config["circuit_breaker_failure_threshold"] = 1
    breaker = CircuitBreaker("dep-b")
    fail(breaker, 1)
    assert breaker.status().state == OPEN and breaker.status().retry_after <= 30


def test_half_open_lets_one_probe_and_success_closes(runtime_config):
    breaker = CircuitBreaker("dep-c")
    with time_machine.travel(1_900_000_000, tick=False) as clock:
        fail(breaker, 3)
        clock.shift(31)
        assert breaker.state == HALF_OPEN
        breaker.before_call()  # this caller is the probe
        with pytest.raises(ServiceUnavailableError):
            breaker.before_call()  # everyone else waits for the probe
        breaker.record_success()
        assert breaker.state == CLOSED and breaker.status().failures == 0


def test_failed_probe_opens_again(runtime_config):
    breaker = CircuitBreaker("dep-d")
    with time_machine.travel(1_900_000_000, tick=False) as clock:
        fail(breaker, 3)
        clock.shift(31)
        fail(breaker, 1)
        assert breaker.state == OPEN
        assert breaker.status().retry_after == 30


def test_instances_share_state_through_the_cache(runtime_config):
    """Two instances (as in two processes) see one state."""
    fail(CircuitBreaker("dep-e"), 3)
    assert CircuitBreaker("dep-e").state == OPEN
    CircuitBreaker("dep-e").reset()
    assert CircuitBreaker("dep-e").state == CLOSED


def test_registry_returns_one_breaker_per_name():
    assert get_breaker("dep-f") is get_breaker("dep-f")


async def test_async_guard(runtime_config):
    breaker = CircuitBreaker("dep-g")
    for _ in range(3):
        with pytest.raises(Boom):
            async with breaker.aguard():
                raise Boom
    assert (await breaker.astatus()).state == OPEN
    with pytest.raises(ServiceUnavailableError):
        async with breaker.aguard():
            pass
    await breaker.areset()
    async with breaker.aguard():
        pass
    assert (await breaker.astatus()).state == CLOSED


@pytest.mark.urls("majed_vanna.tests.urls")
def test_open_breaker_answers_503_with_retry_after(api_client, runtime_config):
    for _ in range(3):
        assert api_client.get("/api/v1/test/async-breaker?fail=1").status_code == 500
    response = api_client.get("/api/v1/test/async-breaker")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert int(response["Retry-After"]) > 0


def test_failing_aguard_leaves_no_database_connection_open(db):
    """``aguard()`` records a failure on a pool thread; reading the breaker's settings there must not open a
    database connection that nobody closes (under chat load that exhausts PostgreSQL)."""
    from config_api import runtime as config_runtime

    config_runtime.publish_stamp(None)  # empty memo, no cached stamp: a database read would be needed
    opened = []

    def record(sender, connection, **kwargs):
        opened.append((connection, threading.current_thread().name))

    async def fail_repeatedly():
        breaker = CircuitBreaker("leak-check")
        for _ in range(8):
            with contextlib.suppress(Boom, ServiceUnavailableError):
                async with breaker.aguard():
                    raise Boom

    connection_created.connect(record)
    try:
        asyncio.run(fail_repeatedly())
        deadline = time.monotonic() + 5
        while config_runtime._refreshing.is_set():  # a background refresh closes its own connection
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        connection_created.disconnect(record)
    # Only the background refresh may connect, and it closes its connections when done (on SQLite's
    # in-memory test database Django ignores close(), so the closing itself is checked on PostgreSQL).
    assert {thread for _, thread in opened} <= {"runtime-config-refresh"}
    if db_connection.vendor != "sqlite":
        assert [conn for conn, _ in opened if conn.connection is not None] == []
