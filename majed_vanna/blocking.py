"""Bounded thread pools for blocking I/O that async views must wait on (database drivers, file reads).

Thread-sensitive ``sync_to_async`` calls (the default) of one request share one thread (outside a
request, one thread per process), so a slow blocking call there also holds up the rest of that work.
``run_blocking`` runs such a call on a bounded pool instead: the event loop stays free and the shared
thread is untouched. A burst of slow calls queues instead of spawning threads without limit; callers must
still bound each call with its own timeout (connect and statement timeouts).

There is one pool per *lane*, each with its own size, so that one kind of work cannot starve another:

* ``default`` (``BLOCKING_IO_MAX_WORKERS`` setting, default 8): connection tests, file reads.
* ``health`` (``HEALTH_CHECK_MAX_WORKERS``, default 6): the health checks (``health.runner``). Twenty
  connection tests waiting on a dead host must not make ``/health`` time out, and a hung dependency
  holds at most one thread of this lane per check (the runner shares one run of a check between callers).
* ``sql`` (``SQL_SQLITE_MAX_WORKERS``, default 4): the agent's SQLite queries (``agent.sql.runners``); each
  is stopped at its data source's statement timeout, and they cannot starve the other lanes.

Calls here must not use Django's ORM, except through a wrapper that closes the thread's connections when
the call ends (the health runner does): a pool thread would otherwise open its own connection and keep it.
Use ``sync_to_async`` for ORM work. The request's context variables (request id) reach the call.

::

    result = await run_blocking(probe_data_source, url)
    report = await run_in_lane("health", database_check)
"""

import asyncio
import contextvars
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.conf import settings

T = TypeVar("T")
DEFAULT_MAX_WORKERS = 8
LANES = {
    "default": ("BLOCKING_IO_MAX_WORKERS", DEFAULT_MAX_WORKERS),
    "health": ("HEALTH_CHECK_MAX_WORKERS", 6),
    "sql": ("SQL_SQLITE_MAX_WORKERS", 4),
}

_pools: dict[str, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def max_workers(lane: str = "default") -> int:
    setting, default = LANES[lane]
    return max(1, int(getattr(settings, setting, default)))


def blocking_pool(lane: str = "default") -> ThreadPoolExecutor:
    """The process's pool of ``lane``, created on first use (a forked child makes its own)."""
    with _pools_lock:
        pool = _pools.get(lane)
        if pool is None:
            prefix = "mv-blocking" if lane == "default" else f"mv-{lane}"
            pool = _pools[lane] = ThreadPoolExecutor(max_workers=max_workers(lane), thread_name_prefix=prefix)
        return pool


def forget_pools() -> list[ThreadPoolExecutor]:
    """Drop every lane's pool (the next call makes a fresh one sized by the settings); returns the old ones."""
    with _pools_lock:
        old = list(_pools.values())
        _pools.clear()
    return old


def _forget_pools_in_child() -> None:
    global _pools_lock
    _pools.clear()  # the parent's worker threads do not exist in the child
    _pools_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_pools_in_child)


def submit(lane: str, fn: Callable[..., T], /, *args: Any, **kwargs: Any):
    """Start ``fn`` on ``lane``'s pool with the caller's context; returns a ``concurrent.futures.Future``."""
    context = contextvars.copy_context()
    return blocking_pool(lane).submit(context.run, functools.partial(fn, *args, **kwargs))


async def run_in_lane(lane: str, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run ``fn(*args, **kwargs)`` on ``lane``'s pool and await its result without blocking the loop."""
    return await asyncio.wrap_future(submit(lane, fn, *args, **kwargs))


async def run_blocking(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run ``fn(*args, **kwargs)`` on the default pool and await its result without blocking the loop."""
    return await run_in_lane("default", fn, *args, **kwargs)
