"""Shared outgoing HTTP clients with sized connection pools (LLM providers, webhooks).

Creating an ``httpx`` client costs about 20 ms of CPU (its TLS context loads the CA bundle) and starts
with no open connection; done per call on the event loop, it stalls every other request of the process
(twenty connection tests held ``/health/live`` for over a second). So each process keeps one client per
origin (scheme, host, port) and reuses its pooled connections::

    from majed_vanna.http_clients import async_client, sync_client

    client = async_client(base_url)                      # async code: one per origin and event loop
    response = await client.post(url, json=body, headers=headers, timeout=httpx.Timeout(5, connect=3))
    status = sync_client(base_url).get(url, timeout=2).status_code   # blocking code (health checks)

Give each call its own timeout. The clients follow no redirects and send no default headers, so
credentials never leak from one caller to another. Pool per client: ``HTTP_CLIENT_MAX_CONNECTIONS``
(default 32) connections, of which ``HTTP_CLIENT_MAX_KEEPALIVE`` (default 16) are kept open for
``HTTP_CLIENT_KEEPALIVE_SECONDS`` (default 30); a call that finds the pool full waits (its ``pool`` timeout).

An ``AsyncClient`` belongs to the event loop it first ran on, so async clients are kept per loop (daphne
has one per process). ``aclose_all()`` closes the current loop's clients; at interpreter exit the sync
clients, and the async ones whose loop still exists and is idle, are closed. A forked child starts with none.
"""

import asyncio
import atexit
import logging
import os
import threading
import weakref

import httpx
from django.conf import settings

logger = logging.getLogger(__name__)

DEFAULT_MAX_CONNECTIONS = 32
DEFAULT_MAX_KEEPALIVE = 16
DEFAULT_KEEPALIVE_SECONDS = 30.0

_async: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, httpx.AsyncClient]]" = (
    weakref.WeakKeyDictionary()
)
_sync: dict[str, httpx.Client] = {}
_lock = threading.Lock()


def origin(url: str) -> str:
    """``scheme://host:port`` of ``url``: the clients' key (one pool per remote server)."""
    parsed = httpx.URL(url)
    port = parsed.port or {"http": 80, "https": 443}.get(parsed.scheme, 0)
    return f"{parsed.scheme}://{parsed.host}:{port}"


def limits() -> httpx.Limits:
    return httpx.Limits(
        max_connections=int(getattr(settings, "HTTP_CLIENT_MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS)),
        max_keepalive_connections=int(getattr(settings, "HTTP_CLIENT_MAX_KEEPALIVE", DEFAULT_MAX_KEEPALIVE)),
        keepalive_expiry=float(getattr(settings, "HTTP_CLIENT_KEEPALIVE_SECONDS", DEFAULT_KEEPALIVE_SECONDS)),
    )


def async_client(url: str) -> httpx.AsyncClient:
    """The running event loop's shared client for ``url``'s origin (created on first use)."""
    loop = asyncio.get_running_loop()
    key = origin(url)
    with _lock:
        clients = _async.setdefault(loop, {})
        client = clients.get(key)
        if client is None or client.is_closed:
            client = clients[key] = httpx.AsyncClient(limits=limits(), follow_redirects=False)
        return client


def sync_client(url: str) -> httpx.Client:
    """The process's shared blocking client for ``url``'s origin (thread-safe; created on first use)."""
    key = origin(url)
    with _lock:
        client = _sync.get(key)
        if client is None or client.is_closed:
            client = _sync[key] = httpx.Client(limits=limits(), follow_redirects=False)
        return client


async def aclose_all() -> None:
    """Close the running loop's async clients (and forget them)."""
    with _lock:
        clients = list(_async.pop(asyncio.get_running_loop(), {}).values())
    for client in clients:
        await client.aclose()


def close_all() -> None:
    """Close the sync clients, and the async clients whose loop is idle (at exit, in tests); forget all."""
    with _lock:
        sync_clients = list(_sync.values())
        _sync.clear()
        by_loop = [(loop, list(clients.values())) for loop, clients in _async.items()]
        _async.clear()
    for client in sync_clients:
        client.close()
    for loop, clients in by_loop:
        if loop.is_closed() or loop.is_running():
            continue  # nothing can run its aclose(); the process is ending anyway
        for client in clients:
            try:
                loop.run_until_complete(client.aclose())
            except Exception as exc:  # best effort at shutdown
                logger.debug("Could not close an HTTP client: %s", type(exc).__name__)


def _forget_in_child() -> None:
    global _lock
    _lock = threading.Lock()
    _sync.clear()  # the parent's connections are not this process's to use
    _async.clear()


atexit.register(close_all)
os.register_at_fork(after_in_child=_forget_in_child)
