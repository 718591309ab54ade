"""The runtime configuration as every server process sees it: cheap, and fresh within seconds.

``runtime_config_values()`` is called on every request (the throttle's default rate), so it never runs a
database query per request. Each process keeps the values it last loaded together with the row's
``stamp`` (a random token replaced on every update). The current stamp is read from the cache:

* With ``REDIS_URL`` the cache is shared: an update writes the new stamp there and every process sees it
  on its next request. The entry expires after ``SHARED_STAMP_TTL`` seconds as a safety net.
* Without it the cache is per process (locmem), so the stamp entry lives only ``LOCAL_STAMP_TTL`` (2 s):
  each process re-reads the stamp from the database at most every 2 seconds and notices another
  process's update that way.

Only when the stamp differs from the memo does the process load the row again (one query). Values are
never put in the cache: they include the data source URL, which may hold a password.
"""

import asyncio
import logging
import threading
from typing import Any

from django.conf import settings
from django.core.cache import cache

from .models import RuntimeConfiguration

logger = logging.getLogger(__name__)

STAMP_KEY = "config_api:stamp"
SHARED_STAMP_TTL = 30
LOCAL_STAMP_TTL = 2
_NO_ROW = "-"

_lock = threading.Lock()
_memo: dict[str, Any] = {"stamp": None, "values": None}
_refreshing = threading.Event()


def _stamp_ttl() -> int:
    return SHARED_STAMP_TTL if getattr(settings, "REDIS_URL", None) else LOCAL_STAMP_TTL


def default_values() -> dict[str, Any]:
    """The effective configuration when no row exists yet (embedded defaults and environment)."""
    return effective_values(RuntimeConfiguration())


def effective_values(config: RuntimeConfiguration) -> dict[str, Any]:
    """Stored values with blanks replaced by the environment's defaults. Holds no API key."""
    return {
        "rate_limit_max_requests": config.rate_limit_max_requests,
        "rate_limit_window": config.rate_limit_window,
        "circuit_breaker_failure_threshold": config.circuit_breaker_failure_threshold,
        "circuit_breaker_timeout": config.circuit_breaker_timeout,
        "llm_provider": config.llm_provider or settings.LLM_PROVIDER,
        "llm_model": config.llm_model or settings.LLM_MODEL or "",
        "llm_base_url": config.llm_base_url or settings.LLM_BASE_URL or "",
        "data_source_url": config.data_source_url or settings.MV_DATA_SOURCE_URL,
        "backup_path": config.backup_path or settings.MV_BACKUP_DIR,
        "backup_retention_days": config.backup_retention_days,
        "log_path": config.log_path or settings.MV_LOG_DIR,
        "config_version": config.version,
    }


def _db_stamp() -> str:
    stamp = (
        RuntimeConfiguration.objects.filter(pk=RuntimeConfiguration.SINGLETON_PK)
        .values_list("stamp", flat=True)
        .first()
    )
    return stamp or _NO_ROW


def _load(stamp: str) -> dict[str, Any]:
    config = RuntimeConfiguration.objects.filter(pk=RuntimeConfiguration.SINGLETON_PK).first()
    values = effective_values(config) if config is not None else default_values()
    with _lock:
        _memo["stamp"], _memo["values"] = (config.stamp if config else _NO_ROW), values
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


def runtime_config_values() -> dict[str, Any]:
    """The current runtime configuration (the provider registered with ``majed_vanna.runtime``)."""
    stamp = cache.get(STAMP_KEY)
    memo_stamp, memo_values = _memo["stamp"], _memo["values"]
    if stamp is not None and stamp == memo_stamp:
        return memo_values
    if _in_event_loop():
        _refresh_in_background()
        return memo_values if memo_values is not None else default_values()
    if stamp is None:
        stamp = _db_stamp()
        cache.set(STAMP_KEY, stamp, timeout=_stamp_ttl())
        if stamp == memo_stamp:
            return memo_values
    return _load(stamp)


def publish_stamp(stamp: str | None = None) -> None:
    """Make an update visible: this process at once, the others through the (shared) cache."""
    with _lock:
        _memo["stamp"], _memo["values"] = None, None
    if stamp is None:
        cache.delete(STAMP_KEY)
    else:
        cache.set(STAMP_KEY, stamp, timeout=_stamp_ttl())
