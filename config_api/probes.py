"""Connection tests behind ``POST config/test-database`` and ``POST config/test-llm``, and the probes of
the ``llm`` and ``data_source`` health checks (``config_api.health_checks``).

The connection tests really connect, measure the time and return ``{status, message, connection_time_ms,
details}``; both give up within a few seconds (``DB_TIMEOUT_SECONDS``, ``LLM_TIMEOUT_SECONDS``) and never put a
password, an API key or a response body in the result. HTTP calls go through the process's shared clients
(``majed_vanna.http_clients``: one pooled client per provider origin), never a client per call.
"""

import asyncio
import sqlite3
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import psycopg

from majed_vanna.http_clients import async_client, sync_client

from .validation import data_source_provider, mask_url, sqlite_path

DB_TIMEOUT_SECONDS = 3
LLM_TIMEOUT_SECONDS = 5.0
DEFAULT_BASE_URLS = {"openai": "https://api.openai.com/v1", "anthropic": "https://api.anthropic.com"}
ANTHROPIC_VERSION = "2023-06-01"


def _result(status: str, message: str, started: float, **details) -> dict[str, Any]:
    return {
        "status": status,
        "message": message,
        "connection_time_ms": round((time.perf_counter() - started) * 1000, 1),
        "details": details,
    }


def _reason(exc: Exception, url: str) -> str:
    """A short, password-free reason from a driver error (the last line, URL masked)."""
    text = str(exc).strip().splitlines()[-1] if str(exc).strip() else "the driver gave no reason"
    password = urlsplit(url).password if "://" in url else None
    if password:
        text = text.replace(password, "********")
    return mask_url(text)[:200]


@dataclass(frozen=True)
class DataSourceOutcome:
    """What one attempt found: ``reason`` is ``None`` on success, else a short word for health reports."""

    reason: str | None
    message: str
    info: dict[str, Any]


def check_data_source(url: str, *, timeout: int | None = None) -> DataSourceOutcome:
    """Connect read-only and run ``SELECT 1`` with connect and statement timeouts of ``timeout`` seconds.

    Blocking (a database driver): async callers run it through ``majed_vanna.blocking.run_blocking``.
    """
    timeout = max(2, int(timeout or DB_TIMEOUT_SECONDS))  # libpq's connect_timeout treats 1 as 2
    provider = data_source_provider(url)
    if provider == "sqlite":
        info = {"provider": provider}
        path = sqlite_path(url)
        if not path.is_file():
            return DataSourceOutcome("missing_file", "The data source file does not exist.", info)
        try:
            with sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=timeout) as conn:
                conn.execute("SELECT 1").fetchone()
            conn.close()
        except sqlite3.Error as exc:
            return DataSourceOutcome("query_failed", f"Could not query the data source: {_reason(exc, url)}", info)
        return DataSourceOutcome(None, "Connected to the data source.", info)
    if provider == "postgresql":
        parts = urlsplit(url)
        info = {"provider": provider, "host": parts.hostname, "database": parts.path.lstrip("/")}
        try:
            with psycopg.connect(
                url,
                connect_timeout=timeout,
                options=f"-c statement_timeout={timeout * 1000} -c default_transaction_read_only=on",
                application_name="majed-vanna-test",
            ) as conn:
                conn.execute("SELECT 1").fetchone()
        except psycopg.Error as exc:
            message = f"Could not connect to the data source: {_reason(exc, url)}"
            return DataSourceOutcome("connect_failed", message, info)
        return DataSourceOutcome(None, "Connected to the data source.", info)
    message = "The data source URL is not a sqlite or PostgreSQL URL."
    return DataSourceOutcome("unsupported_url", message, {"provider": provider})


def probe_data_source(url: str) -> dict[str, Any]:
    """``POST config/test-database``: one timed attempt as ``{status, message, connection_time_ms, details}``."""
    started = time.perf_counter()
    outcome = check_data_source(url)
    return _result("failure" if outcome.reason else "success", outcome.message, started, **outcome.info)


async def probe_llm(*, provider: str, model: str, base_url: str, api_key: str) -> dict[str, Any]:
    """One minimal model call (async: it never holds a thread). ``provider == "none"`` is a failure."""
    started = time.perf_counter()
    details = {"provider": provider, "model": model}
    if provider not in DEFAULT_BASE_URLS:
        return _result("failure", "No LLM provider configured.", started, **details)
    if not model:
        return _result("failure", "No LLM model configured.", started, **details)
    if not api_key:
        return _result("failure", "No LLM API key configured.", started, **details)
    try:
        status_code = await _call_llm(
            provider=provider, model=model, base_url=base_url or DEFAULT_BASE_URLS[provider], api_key=api_key
        )
    except (TimeoutError, httpx.TimeoutException):
        return _result(
            "failure", f"The LLM provider did not answer within {LLM_TIMEOUT_SECONDS:g} s.", started, **details
        )
    except httpx.HTTPError:
        return _result("failure", "Could not connect to the LLM provider.", started, **details)
    details["http_status"] = status_code
    if 200 <= status_code < 300:
        return _result("success", "The LLM provider answered.", started, **details)
    if status_code in (401, 403):
        message = f"The LLM provider refused the API key (HTTP {status_code})."
    elif status_code == 404:
        message = "The LLM provider does not know this endpoint or model (HTTP 404)."
    elif status_code == 429:
        message = "The LLM provider is rate limiting this key (HTTP 429)."
    else:
        message = f"The LLM provider answered HTTP {status_code}."
    return _result("failure", message, started, **details)


def _endpoint(*, provider: str, base_url: str, api_key: str, resource: str) -> tuple[str, dict[str, str]]:
    """URL and auth headers of ``resource`` (``messages``/``chat/completions``, ``models``) at the provider."""
    base = (base_url or DEFAULT_BASE_URLS[provider]).rstrip("/")
    if provider == "anthropic":
        url = f"{base}/{resource}" if base.endswith("/v1") else f"{base}/v1/{resource}"
        return url, {"x-api-key": api_key, "anthropic-version": ANTHROPIC_VERSION}
    return f"{base}/{resource}", {"Authorization": f"Bearer {api_key}"}


async def _call_llm(*, provider: str, model: str, base_url: str, api_key: str) -> int:
    body = {"model": model, "max_tokens": 1, "messages": [{"role": "user", "content": "ping"}]}
    resource = "messages" if provider == "anthropic" else "chat/completions"
    url, headers = _endpoint(provider=provider, base_url=base_url, api_key=api_key, resource=resource)
    timeout = httpx.Timeout(LLM_TIMEOUT_SECONDS, connect=min(3.0, LLM_TIMEOUT_SECONDS))
    call = async_client(url).post(url, json=body, headers=headers, timeout=timeout)
    response = await asyncio.wait_for(call, LLM_TIMEOUT_SECONDS)
    return response.status_code


def llm_reachability(*, provider: str, base_url: str, api_key: str, timeout: float) -> tuple[str, int | None]:
    """``GET`` the provider's model list: reachable, and the key accepted, without spending a token.

    Returns ``(outcome, http_status)``; outcome is ``ok``, ``unauthorized``, ``not_found``, ``rate_limited``,
    ``server_error``, ``http_error``, ``timeout`` or ``unreachable``. Blocking: for health checks, which run
    off the event loop.
    """
    url, headers = _endpoint(provider=provider, base_url=base_url, api_key=api_key, resource="models")
    try:
        status_code = sync_client(url).get(url, headers=headers, timeout=httpx.Timeout(timeout)).status_code
    except httpx.TimeoutException:
        return "timeout", None
    except httpx.HTTPError:
        return "unreachable", None
    if 200 <= status_code < 300:
        return "ok", status_code
    outcomes = {401: "unauthorized", 403: "unauthorized", 404: "not_found", 429: "rate_limited"}
    return outcomes.get(status_code, "server_error" if status_code >= 500 else "http_error"), status_code
