"""What both async LLM services share: pooled SDK clients, timeouts, retries with backoff, the ``llm`` breaker.

vanna's bundled services call synchronous SDK clients inside ``async def`` (one LLM call at a time per
process). Ours use the SDKs' async clients, one per provider + base URL + key hash per event loop, each on
one ``httpx2.AsyncClient`` whose pool holds ``LLM_MAX_CONNECTIONS`` connections (the SDKs speak ``httpx2``,
so ``majed_vanna.http_clients``, built on ``httpx``, does not fit).

A call is retried by us, not the SDK (its ``max_retries`` is 0), so the retries are counted for the lineage:
up to ``LLM_MAX_RETRIES`` times on 408/409/429/5xx and connection errors or timeouts, waiting the provider's
``Retry-After`` (capped at ``LLM_RETRY_MAX_DELAY``) or ``LLM_RETRY_BASE_DELAY * 2**attempt`` with jitter.
The whole call (retries included) runs inside the ``llm`` circuit breaker: a call that still fails after its
retries counts as one failure; while the breaker is open calls fail at once with ``LLM_UNAVAILABLE``. A
refusal that retrying cannot fix (401, 400, 404) is ``LLM_UNAVAILABLE`` too, but does not count (the
provider is up). A stream that breaks after its first event is not retried (the deltas already went out).
"""

import asyncio
import hashlib
import json
import logging
import random
import threading
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2
from django.conf import settings
from vanna.core.llm import LlmService
from vanna.core.tool import ToolCall

from majed_vanna.circuit_breakers import get_breaker
from majed_vanna.exceptions import ServiceUnavailableError

from .errors import LLMUnavailableError

logger = logging.getLogger(__name__)

TRANSIENT_STATUSES = frozenset({408, 409, 429})
BREAKER = "llm"

_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple, Any]]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def timeout() -> httpx2.Timeout:
    return httpx2.Timeout(setting("LLM_TIMEOUT_SECONDS", 60), connect=setting("LLM_CONNECT_TIMEOUT_SECONDS", 5))


def http_client() -> httpx2.AsyncClient:
    connections = int(setting("LLM_MAX_CONNECTIONS", 100))
    limits = httpx2.Limits(max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=30)
    return httpx2.AsyncClient(limits=limits, timeout=timeout(), follow_redirects=False)


def shared_client(provider: str, base_url: str, api_key: str, factory: Callable[[httpx2.AsyncClient], Any]) -> Any:
    """The running loop's SDK client for (provider, base URL, key hash), built by ``factory(http_client)``."""
    key = (provider, base_url, hashlib.sha256(api_key.encode()).hexdigest())
    loop = asyncio.get_running_loop()
    with _lock:
        clients = _clients.setdefault(loop, {})
        client = clients.get(key)
        if client is None or client.is_closed():
            client = clients[key] = factory(http_client())
        return client


async def aclose_clients() -> None:
    """Close the running loop's SDK clients and their pools (tests, shutdown)."""
    with _lock:
        clients = list(_clients.pop(asyncio.get_running_loop(), {}).values())
    for client in clients:
        await client.close()


@dataclass
class CallState:
    """What one call learned, for the lineage: retries made, tokens used."""

    retries: int = 0
    usage: dict[str, int] = field(default_factory=dict)

    def add_usage(self, input_tokens: int | None = None, output_tokens: int | None = None) -> None:
        if input_tokens is not None:
            self.usage["input_tokens"] = int(input_tokens)
        if output_tokens is not None:
            self.usage["output_tokens"] = int(output_tokens)
        if self.usage:
            self.usage["total_tokens"] = self.usage.get("input_tokens", 0) + self.usage.get("output_tokens", 0)


class _Transient(Exception):
    """A failure still standing after the retries: counted by the breaker."""


def _status(exc: BaseException) -> int | None:
    return getattr(exc, "status_code", None)


def _transient(exc: BaseException, connection_errors: tuple[type[BaseException], ...]) -> bool:
    if isinstance(exc, connection_errors):
        return True
    status = _status(exc)
    return status is not None and (status in TRANSIENT_STATUSES or status >= 500)


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _delay(attempt: int, exc: BaseException) -> float:
    cap = setting("LLM_RETRY_MAX_DELAY", 8)
    hinted = _retry_after(exc)
    if hinted is not None:
        return min(hinted, cap)
    base = setting("LLM_RETRY_BASE_DELAY", 0.5) * 2**attempt
    return min(base * (0.5 + random.random() / 2), cap)  # noqa: S311 (jitter, not a secret)


def _describe(exc: BaseException) -> str:
    status = _status(exc)
    if status is not None:
        return f"The LLM provider answered HTTP {status}."
    if "Timeout" in type(exc).__name__:
        return "The LLM provider did not answer in time."
    return "Could not connect to the LLM provider."


class AsyncLlmService(LlmService):
    """The common part of our services; subclasses say how to call their SDK and parse its answers."""

    provider = ""
    api_status_error: type[BaseException] = Exception
    connection_errors: tuple[type[BaseException], ...] = ()

    def __init__(self, *, model: str, api_key: str, base_url: str = ""):
        self.model = model
        self._api_key = api_key
        self.base_url = base_url

    def __repr__(self) -> str:  # never the key
        return f"{type(self).__name__}(model={self.model!r}, base_url={self.base_url!r})"

    def metadata(self, state: CallState) -> dict[str, Any]:
        return {"provider": self.provider, "model": self.model, "retries": state.retries, "usage": dict(state.usage)}

    async def _with_retries(self, state: CallState, call: Callable[[], Awaitable[Any]]) -> Any:
        """``call()`` with bounded retries on transient errors; maps failures to ``LLMUnavailableError``."""
        attempts = int(setting("LLM_MAX_RETRIES", 2))
        for attempt in range(attempts + 1):
            try:
                return await call()
            except (self.api_status_error, *self.connection_errors) as exc:
                if not _transient(exc, self.connection_errors):
                    raise LLMUnavailableError(_describe(exc), details={"http_status": _status(exc)}) from exc
                if attempt == attempts:
                    raise _Transient(_describe(exc)) from exc
                wait = _delay(attempt, exc)
                logger.warning(
                    "LLM %s call failed (%s); retry %d/%d in %.2f s",
                    self.provider,
                    _status(exc) or type(exc).__name__,
                    attempt + 1,
                    attempts,
                    wait,
                )
                state.retries += 1
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    async def _guarded(self, state: CallState, call: Callable[[], Awaitable[Any]]) -> Any:
        """``_with_retries`` inside the ``llm`` breaker (open: fail fast)."""
        try:
            async with get_breaker(BREAKER).aguard(failure_exceptions=(_Transient,)):
                return await self._with_retries(state, call)
        except ServiceUnavailableError as exc:
            headers = {"Retry-After": exc.headers.get("Retry-After", "1")} if exc.headers else {}
            raise LLMUnavailableError("The LLM provider is temporarily unavailable.", headers=headers) from exc
        except _Transient as exc:
            raise LLMUnavailableError(str(exc), details={"retries": state.retries}) from exc

    async def _guarded_stream(self, state: CallState, open_stream: Callable[[], Awaitable[Any]]) -> AsyncIterator[Any]:
        """The events of a stream opened (with retries) inside the breaker; the stream is closed on exit,
        including when the consumer is cancelled (that closes the HTTP request at the provider)."""
        stream = await self._guarded(state, open_stream)
        async with stream:
            try:
                async for event in stream:
                    yield event
            except (self.api_status_error, *self.connection_errors) as exc:
                await asyncio.to_thread(get_breaker(BREAKER).record_failure)
                raise LLMUnavailableError(_describe(exc)) from exc

    async def validate_tools(self, tools: list[Any]) -> list[str]:
        return [f"Invalid tool name: {t.name!r}" for t in tools if not t.name or len(t.name) > 64]


def parse_arguments(raw: str | dict | None) -> dict[str, Any]:
    """A tool call's arguments as a dict (a JSON string from OpenAI, a dict from Anthropic)."""
    if isinstance(raw, dict):
        return raw
    try:
        loaded = json.loads(raw or "{}")
    except ValueError:
        return {"_raw": raw}
    return loaded if isinstance(loaded, dict) else {"args": loaded}


def tool_call(call_id: str | None, name: str, arguments: Any) -> ToolCall:
    return ToolCall(id=call_id or f"call_{time.monotonic_ns()}", name=name, arguments=parse_arguments(arguments))
