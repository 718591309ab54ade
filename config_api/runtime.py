"""The runtime configuration as every server process sees it: cheap, and fresh within seconds.

``runtime_config_values()`` is called on every request (the throttle's default rate), so it never runs a
database query per request. Each process keeps the values it last loaded together with the row's
``stamp`` (a random token replaced on every update). The current stamp is read from the cache:

* With ``REDIS_URL`` the cache is shared: an update writes the new stamp there and every process sees it
  on its next request. The entry expires after ``SHARED_STAMP_TTL`` seconds as a safety net.
* Without it the cache is per process (locmem), so the stamp entry lives only ``LOCAL_STAMP_TTL`` (2 s):
  each process re-reads the stamp from the database at most every 2 seconds and notices another
  process's update that way.

Only when the stamp differs from the memo does the process load the row again (one query). A row whose
stamp is blank (never updated, or restored from an old backup) counts as ``_NO_ROW`` on both sides, so its
memo matches too. Values are never put in the cache: they include the data source URL, which may hold a
password.

``runtime_config_values(database=False)`` never touches the database: it answers from the memo (or the
defaults) and, when the memo is stale, reloads it in a background thread that closes its connection. Code
that runs on executor threads whose connections nobody closes (the circuit breakers' ``aguard()``) reads
that way; from a coroutine every read does.
"""

import asyncio
import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache

from majed_vanna.cache_client import CACHE_ERRORS

from .fields import FIELDS
from .models import RuntimeConfiguration

logger = logging.getLogger(__name__)

STAMP_KEY = "config_api:stamp"
SHARED_STAMP_TTL = 30
LOCAL_STAMP_TTL = 2
_NO_ROW = "-"

_lock = threading.Lock()
_memo: dict[str, Any] = {"stamp": None, "values": None, "confirmed_at": 0.0}
# With Redis, a stamp read is a network round trip on every request: a stamp confirmed less than this long ago
# is trusted without asking again (this process's own updates reset the memo at once).
SHARED_STAMP_RECHECK_SECONDS = 1.0
_refreshing = threading.Event()


def _stamp_ttl() -> int:
    return SHARED_STAMP_TTL if getattr(settings, "REDIS_URL", None) else LOCAL_STAMP_TTL


def default_values() -> dict[str, Any]:
    """The effective configuration when no row exists yet (embedded defaults and environment)."""
    return effective_values(RuntimeConfiguration())


def effective_values(config: RuntimeConfiguration) -> dict[str, Any]:
    """Stored values with blanks replaced by the environment's defaults (``config_api.fields``). Holds no
    secret field (the LLM API key is read through ``config_api.selectors.llm_key``)."""
    values = {field.name: field.effective(getattr(config, field.column)) for field in FIELDS if not field.secret}
    values["config_version"] = config.version
    return values


def _stamp_of(stamp: str | None) -> str:
    """The stamp as memo and cache hold it: a missing row and a blank stamp are both ``_NO_ROW``."""
    return stamp or _NO_ROW


def _db_stamp() -> str:
    return _stamp_of(
        RuntimeConfiguration.objects.filter(pk=RuntimeConfiguration.SINGLETON_PK)
        .values_list("stamp", flat=True)
        .first()
    )


def _load() -> dict[str, Any]:
    config = RuntimeConfiguration.objects.filter(pk=RuntimeConfiguration.SINGLETON_PK).first()
    values = effective_values(config) if config is not None else default_values()
    with _lock:
        _memo["stamp"], _memo["values"] = _stamp_of(config.stamp if config else None), values
        _memo["confirmed_at"] = time.monotonic()
    return values


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _refresh_in_background() -> None:
    """From a coroutine the database may not be touched: reload in a thread, serve the memo meanwhile."""
    if _refreshing.is_set():
        return
    _refreshing.set()

    def run():
        try:
            runtime_config_values()
        except Exception:
            logger.exception("Could not refresh the runtime configuration")
        finally:
            from django.db import connections

            connections.close_all()
            _refreshing.clear()

    threading.Thread(target=run, name="runtime-config-refresh", daemon=True).start()


def runtime_config_values(*, database: bool = True) -> dict[str, Any]:
    """The current runtime configuration (the provider registered with ``majed_vanna.runtime``).

    ``database=False``: no database access on this thread (see the module's docstring)."""
    memo_stamp, memo_values = _memo["stamp"], _memo["values"]
    recheck = SHARED_STAMP_RECHECK_SECONDS if getattr(settings, "REDIS_URL", None) else 0
    if memo_values is not None and time.monotonic() - _memo["confirmed_at"] < recheck:
        return memo_values
    stamp = _cache_call(cache.get, STAMP_KEY)
    if stamp is not None and stamp == memo_stamp:
        _memo["confirmed_at"] = time.monotonic()
        return memo_values
    if not database or _in_event_loop():
        _refresh_in_background()
        return memo_values if memo_values is not None else default_values()
    if stamp is None:
        stamp = _db_stamp()
        _cache_call(cache.set, STAMP_KEY, stamp, timeout=_stamp_ttl())
        if stamp == memo_stamp:
            _memo["confirmed_at"] = time.monotonic()
            return memo_values
    return _load()


def runtime_config_values_offline() -> dict[str, Any]:
    """``runtime_config_values(database=False)``: the no-database provider of ``majed_vanna.runtime``."""
    return runtime_config_values(database=False)


def publish_stamp(stamp: str | None = None) -> None:
    """Make an update visible: this process at once, the others through the (shared) cache."""
    with _lock:
        _memo["stamp"], _memo["values"], _memo["confirmed_at"] = None, None, 0.0
    if stamp is None:
        _cache_call(cache.delete, STAMP_KEY)
    else:
        _cache_call(cache.set, STAMP_KEY, stamp, timeout=_stamp_ttl())


def _cache_call(method, *args, **kwargs):
    """A stamp read or write; ``None`` (logged) when the cache cannot be reached. Publishing runs after an
    update's commit, which a cache outage must not turn into a 503; reading falls back to the database's stamp.
    Other processes then see the change once their stamp entry expires (``SHARED_STAMP_TTL``)."""
    try:
        return method(*args, **kwargs)
    except CACHE_ERRORS:
        logger.warning("Runtime configuration stamp: the cache is unavailable")
        return None
