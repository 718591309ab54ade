"""The tools' settings as every server process sees them: cheap, and fresh within a second or two of a change
(contract §5 "Knowledge" → tools registry: "effective at once in every process").

The same scheme as ``config_api.runtime``: each process keeps the ``ToolSetting`` rows it last loaded with their
``stamp`` (a hash of the rows' content), and compares that stamp with the one in the cache:

* With ``REDIS_URL`` the cache is shared. ``publish()`` (after an update commits) writes the new stamp there;
  another process sees it on its next read and reloads (one query). A stamp confirmed less than
  ``SHARED_STAMP_RECHECK_SECONDS`` ago is trusted without asking Redis again.
* Without it the cache is per process, so the stamp entry lives only ``LOCAL_STAMP_TTL`` seconds: each process
  reloads the rows (one small query) at most every 2 seconds and notices another process's change that way.

A reload writes its stamp with ``cache.add`` (never over a newer one published meanwhile), so a reader that loaded
the rows just before an update commits cannot hide that update from the other processes.

Reads touch the database when the memo is stale: call ``tool_settings()`` from synchronous code (a view, a
thread) and ``await atool_settings()`` from a coroutine.
"""

import hashlib
import json
import logging
import threading
import time
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache

from majed_vanna.cache_client import CACHE_ERRORS
from majed_vanna.roles import INTEGRATION_PERMISSIONS, INTEGRATION_ROLE, permissions_for_role

from .models.sources import SOURCE_ROLES
from .models.tools import ToolSetting

logger = logging.getLogger(__name__)

STAMP_KEY = "agent:tool_settings:stamp"
SHARED_STAMP_TTL = 30
LOCAL_STAMP_TTL = 2
SHARED_STAMP_RECHECK_SECONDS = 1.0
TOOL_ROLES = SOURCE_ROLES  # the user roles and "integration" (integration clients)

_lock = threading.Lock()
_memo: dict[str, Any] = {"stamp": None, "rows": None, "confirmed_at": 0.0}


def role_permissions(role: str) -> frozenset[str]:
    return INTEGRATION_PERMISSIONS if role == INTEGRATION_ROLE else permissions_for_role(role)


def default_roles(tool) -> list[str]:
    """The roles a tool is offered to when no administrator chose: every role whose permissions meet the tool's
    ``access_groups`` (all roles for a tool that needs none)."""
    needed = set(getattr(tool, "access_groups", None) or ())
    return [role for role in TOOL_ROLES if not needed or needed & role_permissions(role)]


def _shared() -> bool:
    return bool(getattr(settings, "REDIS_URL", None))


def _stamp_of(rows: dict[str, dict]) -> str:
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()[:32]


def _cache_call(method, *args, **kwargs):
    try:
        return method(*args, **kwargs)
    except CACHE_ERRORS:
        logger.warning("Tool settings stamp: the cache is unavailable")
        return None


def _stamp_ttl() -> int:
    return SHARED_STAMP_TTL if _shared() else LOCAL_STAMP_TTL


def _read_rows() -> tuple[dict[str, dict], str]:
    """The rows (one query) and their stamp, memoised in this process."""
    rows = {
        tool_id: {"enabled": enabled, "roles": list(roles or [])}
        for tool_id, enabled, roles in ToolSetting.objects.values_list("tool_id", "enabled", "roles")
    }
    stamp = _stamp_of(rows)
    with _lock:
        _memo.update(stamp=stamp, rows=rows, confirmed_at=time.monotonic())
    return rows, stamp


def _load() -> dict[str, dict]:
    rows, stamp = _read_rows()
    _cache_call(cache.add, STAMP_KEY, stamp, timeout=_stamp_ttl())  # never over a newer published stamp
    return rows


def _fresh_memo() -> dict[str, dict] | None:
    """The memo's rows if they are known to be current (no database access), else ``None``."""
    rows = _memo["rows"]
    if rows is None:
        return None
    if _shared() and time.monotonic() - _memo["confirmed_at"] < SHARED_STAMP_RECHECK_SECONDS:
        return rows
    if _cache_call(cache.get, STAMP_KEY) == _memo["stamp"]:
        _memo["confirmed_at"] = time.monotonic()
        return rows
    return None


def _effective(rows: dict[str, dict]) -> dict[str, dict]:
    from .engine.tools import TOOLS  # the engine imports the selectors: not at import time

    result = {}
    for tool in TOOLS:
        row = rows.get(tool.name)
        result[tool.name] = (
            {"enabled": row["enabled"], "roles": list(row["roles"])}
            if row is not None
            else {"enabled": True, "roles": default_roles(tool)}
        )
    return result


def stored_rows() -> dict[str, dict]:
    """The ``ToolSetting`` rows as ``{tool_id: {"enabled", "roles"}}`` (tools an administrator changed)."""
    rows = _fresh_memo()
    return rows if rows is not None else _load()


def tool_settings() -> dict[str, dict]:
    """``{tool_id: {"enabled": bool, "roles": [role, ...]}}`` for every tool of ``agent.engine.tools.TOOLS``,
    the defaults where no administrator chose. Synchronous: may run one query when the memo is stale."""
    return _effective(stored_rows())


async def atool_settings() -> dict[str, dict]:
    """``tool_settings()`` for coroutines: the memo when current, else a reload off the event loop."""
    rows = _fresh_memo()
    if rows is None:
        from majed_vanna.api.policy import release_connections

        def load():
            try:
                return _load()
            finally:
                release_connections()

        rows = await sync_to_async(load)()
    return _effective(rows)


def forget() -> None:
    """Drop this process's memo: the next read loads the rows again (this process sees a change at once)."""
    with _lock:
        _memo.update(stamp=None, rows=None, confirmed_at=0.0)


def publish() -> None:
    """After an update commits: reload the rows here and write their stamp to the cache for every process."""
    _rows, stamp = _read_rows()
    _cache_call(cache.set, STAMP_KEY, stamp, timeout=_stamp_ttl())
