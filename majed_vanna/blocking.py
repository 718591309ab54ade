"""One bounded thread pool for blocking I/O that async views must wait on (database drivers, file reads).

Thread-sensitive ``sync_to_async`` calls (the default) of one request share one thread (outside a
request, one thread per process), so a slow blocking call there also holds up the rest of that work.
``run_blocking`` runs such a call on this pool instead: the event loop stays free and the shared thread
is untouched. The pool is bounded (``BLOCKING_IO_MAX_WORKERS`` setting, default 8), so a burst of
slow calls queues instead of spawning threads without limit; callers must still bound each call with its
own timeout (connect and statement timeouts).

Calls here must not use Django's ORM: a pool thread would open its own database connection and keep it.
Use ``sync_to_async`` for ORM work. The request's context variables (request id) reach the call.

::

    result = await run_blocking(probe_data_source, url)

The health checks keep their own runner (``health.runner``: one daemon thread per check, single flight),
because a hung check there must never occupy a slot that other work needs.
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

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def max_workers() -> int:
    return max(1, int(getattr(settings, "BLOCKING_IO_MAX_WORKERS", DEFAULT_MAX_WORKERS)))


def blocking_pool() -> ThreadPoolExecutor:
    """The process's pool, created on first use (a forked child makes its own)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=max_workers(), thread_name_prefix="mv-blocking")
        return _pool


def _forget_pool_in_child() -> None:
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()  # the parent's worker threads do not exist in the child


os.register_at_fork(after_in_child=_forget_pool_in_child)


async def run_blocking(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run ``fn(*args, **kwargs)`` on the bounded pool and await its result without blocking the loop."""
    context = contextvars.copy_context()
    call = functools.partial(context.run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(blocking_pool(), call)
