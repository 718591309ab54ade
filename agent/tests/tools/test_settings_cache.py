"""The tool settings every process reads (``agent.tool_settings``): no query per read, this process's change seen
at once, another process's within the re-check interval (shared cache) or the stamp's expiry (per-process cache).

"Another process" is simulated: the database and the cache are shared as in production, and this process's memo
is put back as it was before the other process's update (it did not see it happen)."""

from unittest import mock

import pytest
from asgiref.sync import sync_to_async
from django.core.cache import cache

from agent import selectors
from agent import tool_settings as ts
from agent.services.tools_registry import tool_setting_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def another_process(admin, django_capture_on_commit_callbacks):
    """``change(**fields)``: another process updates ``run_sql`` and publishes after its commit."""

    def change(**fields):
        memo = dict(ts._memo)
        with django_capture_on_commit_callbacks(execute=True):
            tool_setting_update(tool_id="run_sql", actor=admin, **fields)
        ts._memo.update(memo)

    return change


def test_repeated_reads_run_no_query(django_assert_num_queries):
    ts.tool_settings()
    with django_assert_num_queries(0):
        for _ in range(100):
            assert ts.tool_settings()["run_sql"]["enabled"] is True


def test_this_process_sees_its_own_change_at_once(admin):
    assert selectors.tool_settings()["run_sql"]["enabled"] is True
    tool_setting_update(tool_id="run_sql", actor=admin, enabled=False)  # not even committed yet
    assert selectors.tool_settings()["run_sql"]["enabled"] is False


def test_another_process_change_is_seen_once_the_recheck_interval_passed(another_process):
    assert ts.tool_settings()["run_sql"]["enabled"] is True  # memoised here
    another_process(enabled=False, roles=["admin"])
    ts._memo["confirmed_at"] -= ts.SHARED_STAMP_RECHECK_SECONDS  # a second goes by
    assert ts.tool_settings()["run_sql"] == {"enabled": False, "roles": ["admin"]}


def test_with_a_per_process_cache_the_change_is_seen_when_the_stamp_expires(settings, another_process, monkeypatch):
    settings.REDIS_URL = None  # each process has its own cache: the other one's publish never reaches it
    timeouts = []
    real_add = cache.add
    monkeypatch.setattr(ts.cache, "add", lambda key, value, timeout: timeouts.append(timeout) or real_add(key, value))
    assert ts.tool_settings()["run_sql"]["enabled"] is True
    assert timeouts == [ts.LOCAL_STAMP_TTL] and ts.LOCAL_STAMP_TTL <= 2
    own_stamp = cache.get(ts.STAMP_KEY)
    another_process(enabled=False)
    cache.set(ts.STAMP_KEY, own_stamp)  # this process's own cache still holds its stamp ...
    assert ts.tool_settings()["run_sql"]["enabled"] is True
    cache.delete(ts.STAMP_KEY)  # ... until it expires (LOCAL_STAMP_TTL seconds)
    assert ts.tool_settings()["run_sql"]["enabled"] is False


def test_a_reader_that_loaded_before_the_commit_cannot_hide_the_change(another_process):
    before = ts._stamp_of({})
    another_process(enabled=False)
    published = cache.get(ts.STAMP_KEY)
    assert published and published != before
    with mock.patch.object(ts, "_read_rows", return_value=({}, before)):  # rows read just before the commit
        ts._load()
    assert cache.get(ts.STAMP_KEY) == published  # its late write did not replace the newer stamp
    ts._memo["confirmed_at"] = 0.0
    assert ts.tool_settings()["run_sql"]["enabled"] is False


@pytest.mark.django_db(transaction=True)
async def test_a_coroutine_reads_the_change_of_another_process(admin):
    assert (await ts.atool_settings())["run_sql"]["enabled"] is True
    memo = dict(ts._memo)
    await sync_to_async(tool_setting_update)(tool_id="run_sql", actor=admin, enabled=False)  # commits, publishes
    ts._memo.update(memo, confirmed_at=0.0)
    assert (await ts.atool_settings())["run_sql"]["enabled"] is False
