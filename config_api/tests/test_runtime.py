"""The runtime-config provider: no database query per call, a change visible at once in this process,
never a database call from a coroutine."""

import asyncio
import time

from django.core.cache import cache

from config_api import runtime
from config_api.models import RuntimeConfiguration
from config_api.services import config_update
from majed_vanna.runtime import runtime_value


def test_provider_is_registered_and_answers_defaults(db, settings):
    assert runtime_value("rate_limit_max_requests", None) == 1000
    assert runtime_value("backup_path", None) == settings.MV_BACKUP_DIR
    assert runtime_value("llm_provider", None) == "none"


def test_repeated_reads_do_not_query_the_database(db, django_assert_num_queries):
    runtime.runtime_config_values()
    with django_assert_num_queries(0):
        for _ in range(50):
            runtime.runtime_config_values()


def test_stamp_expiry_costs_one_query_and_no_reload_when_unchanged(admin, django_assert_num_queries):
    config_update(actor=admin, changes={"circuit_breaker_timeout": 42})
    assert runtime.runtime_config_values()["circuit_breaker_timeout"] == 42
    cache.delete(runtime.STAMP_KEY)  # what the 2 s expiry (or another process's publish) does
    runtime._memo["confirmed_at"] = 0.0  # and the last confirmation is older than the re-check interval
    with django_assert_num_queries(1):
        assert runtime.runtime_config_values()["circuit_breaker_timeout"] == 42


def test_update_is_visible_at_once_in_the_same_process(admin):
    assert runtime_value("circuit_breaker_failure_threshold", None) == 5
    config_update(actor=admin, changes={"circuit_breaker_failure_threshold": 9})
    assert runtime_value("circuit_breaker_failure_threshold", None) == 9


def test_from_a_coroutine_no_database_call_is_made(admin):
    config_update(actor=admin, changes={"circuit_breaker_timeout": 77})
    runtime.publish_stamp(None)  # memo empty: a sync caller would have to query

    async def read():
        return runtime.runtime_config_values()

    values = asyncio.run(read())  # would raise SynchronousOnlyOperation if it touched the ORM
    assert values["circuit_breaker_timeout"] in (60, 77)  # defaults, or the memo once refreshed
    deadline = time.monotonic() + 5
    while runtime._refreshing.is_set():  # the refresh runs in a thread; let it finish inside the test
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_default_rate_comes_from_the_environment_until_configured(db, settings, api_client_for, admin):
    settings.DEFAULT_THROTTLE_RATE = "7/minute"
    runtime.publish_stamp(None)
    values = runtime.runtime_config_values()
    assert (values["rate_limit_max_requests"], values["rate_limit_window"]) == (7, 60)
    # GET backups declares no rate of its own: it follows the default.
    response = api_client_for(admin).get("/api/v1/backups")
    assert response["X-RateLimit-Limit"] == "7"


def test_retention_default_comes_from_the_environment(db, settings):
    settings.MV_BACKUP_RETENTION_DAYS = 12
    runtime.publish_stamp(None)
    assert runtime.runtime_config_values()["backup_retention_days"] == 12


def test_a_row_with_a_blank_stamp_is_memoised(admin, django_assert_num_queries):
    """A PUT config that changes nothing on a fresh install creates the row with a blank stamp; its memo
    must still match (it used to hold "" while the cache held "-", reloading on every call)."""
    config_update(actor=admin, changes={"circuit_breaker_timeout": 60})
    assert RuntimeConfiguration.objects.get().stamp == ""
    runtime.runtime_config_values()
    with django_assert_num_queries(0):
        for _ in range(20):
            assert runtime.runtime_config_values()["circuit_breaker_timeout"] == 60
    cache.delete(runtime.STAMP_KEY)  # the stamp entry expired: one query for the stamp, no reload
    runtime._memo["confirmed_at"] = 0.0
    with django_assert_num_queries(1):
        for _ in range(5):
            runtime.runtime_config_values()


def test_database_false_never_queries(admin, django_assert_num_queries):
    config_update(actor=admin, changes={"circuit_breaker_timeout": 33})
    runtime.publish_stamp(None)  # memo empty, no stamp cached: a normal read would query
    with django_assert_num_queries(0):
        values = runtime.runtime_config_values(database=False)
    assert values["circuit_breaker_timeout"] in (60, 33)  # defaults until the background refresh lands
    deadline = time.monotonic() + 5
    while runtime._refreshing.is_set():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_with_a_shared_cache_the_stamp_is_asked_for_at_most_once_a_second(db, settings, monkeypatch):
    """Redis is a network round trip: a request reads the configuration without one when the stamp was
    confirmed less than a second ago, and sees an update again after that."""
    from config_api import runtime

    settings.REDIS_URL = "redis://shared.example:6379/0"  # only consulted for the re-check interval here
    runtime.publish_stamp()
    runtime.runtime_config_values()
    asked = []
    original = runtime.cache.get
    monkeypatch.setattr(runtime.cache, "get", lambda *a, **k: asked.append(a) or original(*a, **k))
    for _ in range(50):
        runtime.runtime_config_values()
    assert asked == []
    later = time.monotonic() + 1.5
    monkeypatch.setattr(runtime.time, "monotonic", lambda: later)
    runtime.runtime_config_values()
    assert len(asked) == 1
