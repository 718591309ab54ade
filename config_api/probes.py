"""Connection tests behind ``POST config/test-database`` and ``POST config/test-llm``.

Both really connect, measure the time and return ``{status, message, connection_time_ms, details}``;
both give up within a few seconds (``DB_TIMEOUT_SECONDS``, ``LLM_TIMEOUT_SECONDS``) and never put a
password, an API key or a response body in the result.
"""

import asyncio
import sqlite3
import time
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import psycopg
from asgiref.sync import async_to_sync

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
    text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    password = urlsplit(url).password if "://" in url else None
    if password:
        text = text.replace(password, "********")
    return mask_url(text)[:200]


def probe_data_source(url: str) -> dict[str, Any]:
    """Read-only ``SELECT 1`` against the agent's data source with short connect and statement timeouts."""
    provider = data_source_provider(url)
    started = time.perf_counter()
    if provider == "sqlite":
        path = sqlite_path(url)
        if not path.is_file():
            return _result("failure", "The data source file does not exist.", started, provider=provider)
        try:
            with sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=DB_TIMEOUT_SECONDS) as conn:
                conn.execute("SELECT 1").fetchone()
            conn.close()
        except sqlite3.Error as exc:
            return _result(
                "failure", f"Could not query the data source: {_reason(exc, url)}", started, provider=provider
            )
        return _result("success", "Connected to the data source.", started, provider=provider)
    if provider == "postgresql":
        parts = urlsplit(url)
        info = {"provider": provider, "host": parts.hostname, "database": parts.path.lstrip("/")}
        try:
            with psycopg.connect(
                url,
                connect_timeout=DB_TIMEOUT_SECONDS,
                options=f"-c statement_timeout={DB_TIMEOUT_SECONDS * 1000} -c default_transaction_read_only=on",
                application_name="majed-vanna-test",
            ) as conn:
                conn.execute("SELECT 1").fetchone()
        except psycopg.Error as exc:
            return _result("failure", f"Could not connect to the data source: {_reason(exc, url)}", started, **info)
        return _result("success", "Connected to the data source.", started, **info)
    return _result("failure", "The data source URL is not a sqlite or PostgreSQL URL.", started, provider=provider)


def probe_llm(*, provider: str, model: str, base_url: str, api_key: str) -> dict[str, Any]:
    """One minimal model call. ``provider == "none"`` is a failure: nothing can answer questions."""
    started = time.perf_counter()
    details = {"provider": provider, "model": model}
    if provider not in DEFAULT_BASE_URLS:
        return _result("failure", "No LLM provider configured.", started, **details)
    if not model:
        return _result("failure", "No LLM model configured.", started, **details)
    if not api_key:
        return _result("failure", "No LLM API key configured.", started, **details)
    try:
        status_code = async_to_sync(_call_llm)(
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


async def _call_llm(*, provider: str, model: str, base_url: str, api_key: str) -> int:
    base = base_url.rstrip("/")
    body = {"model": model, "max_tokens": 1, "messages": [{"role": "user", "content": "ping"}]}
    if provider == "anthropic":
        url = f"{base}/messages" if base.endswith("/v1") else f"{base}/v1/messages"
        headers = {"x-api-key": api_key, "anthropic-version": ANTHROPIC_VERSION}
    else:
        url = f"{base}/chat/completions"
        headers = {"Authorization": f"Bearer {api_key}"}
    timeout = httpx.Timeout(LLM_TIMEOUT_SECONDS, connect=min(3.0, LLM_TIMEOUT_SECONDS))
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
        response = await asyncio.wait_for(client.post(url, json=body, headers=headers), LLM_TIMEOUT_SECONDS)
    return response.status_code
