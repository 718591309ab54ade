"""Django's ASGI handler, with the sync work of async views on one bounded pool of threads per process.

Django's ``ASGIHandler`` runs every request inside its own ``ThreadSensitiveContext``, and sends
``request_started`` (to sync receivers: ``close_old_connections``, ``reset_queries``) through a thread-sensitive
``sync_to_async`` before the view runs. So every request starts a thread of its own and keeps it until it ends,
even one served by an ``async def`` view that only waits: a thousand streaming chats held a thousand threads
(measured: ``bench/agent_chat.py``, BENCHMARKS.md "Agent chat concurrency"), each started from the event loop
(``Thread.start`` waits for the new thread, which queues for the GIL under load) and joined on it at the end.

Here a request whose view is a coroutine function (``async_api_view``: chat, health, connection tests, ...) runs
in a ``ThreadSensitiveContext`` whose executor is the process's shared pool of ``ASYNC_VIEW_THREADS`` threads:
its thread-sensitive calls (the signals, Django's middleware hooks, the request policy, the ORM steps of a chat)
queue for those threads instead of starting one. The health app's views have a pool of their own
(``ASYNC_HEALTH_THREADS``), so that ``/health`` does not queue behind a thousand chats. Each call gives its
database connections back when it ends (``release_connections``), so an idle pool thread holds none, and no call
relies on the previous one's thread: none keeps a transaction open across calls (Django forbids that in async
code anyway). Requests served by sync views (DRF) keep Django's per-request thread: their middleware, view and
``request_finished`` share one thread, as Django expects.

The test clients (``Client``, ``AsyncClient``) use Django's own handlers, not this one; a daphne process serves
this one (``majed_vanna.asgi``).
"""

import functools
import threading
from concurrent.futures import ThreadPoolExecutor

import django
from asgiref.sync import ThreadSensitiveContext, iscoroutinefunction
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.urls import Resolver404, get_resolver

POOLS = {"default": ("ASYNC_VIEW_THREADS", 8), "health": ("ASYNC_HEALTH_THREADS", 2)}
_lock = threading.Lock()
_executors: dict[str, "ReleasingExecutor"] = {}


class ReleasingExecutor(ThreadPoolExecutor):
    """A thread pool whose calls give the thread's database connections back when they end (an idle pool thread
    holds none). ``ThreadSensitiveContext`` leaves an executor it was given running when it exits."""

    def submit(self, fn, /, *args, **kwargs):
        return super().submit(_releasing, fn, *args, **kwargs)


def _releasing(fn, *args, **kwargs):
    from majed_vanna.api.policy import release_connections  # late: this module loads before Django is set up

    try:
        return fn(*args, **kwargs)
    finally:
        release_connections()


def async_views_executor(pool: str = "default") -> ReleasingExecutor:
    """The process's ``pool`` (``default`` or ``health``) for the sync work of async views, made on first use."""
    with _lock:
        executor = _executors.get(pool)
        if executor is None:
            setting, default = POOLS[pool]
            threads = max(1, int(getattr(settings, setting, default)))
            executor = _executors[pool] = ReleasingExecutor(max_workers=threads, thread_name_prefix=f"mv-async-{pool}")
        return executor


@functools.lru_cache(maxsize=4096)
def async_view_pool(path_info: str) -> str | None:
    """The pool for the view ``path_info`` resolves to when it is a coroutine function; ``None`` otherwise
    (sync views, unknown paths: Django's per-request thread)."""
    try:
        match = get_resolver().resolve(path_info)
    except Resolver404:
        return None
    if not iscoroutinefunction(match.func):
        return None
    return "health" if match.func.__module__.split(".")[0] == "health" else "default"


class MajedASGIHandler(ASGIHandler):
    async def __call__(self, scope, receive, send):
        pool = async_view_pool(self._path_info(scope)) if scope["type"] == "http" else None
        if pool is None:
            await super().__call__(scope, receive, send)
            return
        async with ThreadSensitiveContext(executor=async_views_executor(pool)):
            await self.handle(scope, receive, send)

    @staticmethod
    def _path_info(scope) -> str:
        path, root = scope.get("path", ""), scope.get("root_path", "")
        return path.removeprefix(root) if root else path


def get_asgi_application() -> MajedASGIHandler:
    """``django.core.asgi.get_asgi_application`` with this handler."""
    django.setup(set_prefix=False)
    return MajedASGIHandler()
