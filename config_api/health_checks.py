"""The ``llm`` and ``data_source`` health checks (contract §5 "Health"), registered in ``ConfigApiConfig.ready()``.

config_api owns the LLM settings and the agent's data source URL, so it reports on both. Both checks are
*optional*: without them the API, accounts, configuration and backups still work and only the agent cannot
answer, so a failure makes the service ``degraded`` (``health/ready`` stays 200), never ``unhealthy``.

* ``data_source``: connects read-only and runs ``SELECT 1`` (``probes.check_data_source``, 2 s timeouts).
  ``healthy``; ``degraded`` with a ``reason`` (``missing_file``, ``query_failed``, ``connect_failed``,
  ``unsupported_url``); ``not_configured`` while the URL is still the embedded default
  (``$MV_DATA_DIR/demo.sqlite3``) and that file does not exist yet.
* ``llm``: ``not_configured`` for provider ``none``; otherwise one ``GET`` of the provider's model list
  (``{base}/models`` for openai, ``{base}/v1/models`` for anthropic), which costs no tokens. ``healthy``
  when it answers 2xx and the ``llm`` circuit breaker (if one is registered) is closed; ``degraded`` with
  a ``reason`` (``unauthorized``, ``not_found``, ``rate_limited``, ``server_error``, ``http_error``,
  ``timeout``, ``unreachable``, ``no_api_key``, ``api_key_unreadable``, ``no_model``, ``circuit_open``)
  otherwise.

Results are kept in the shared cache (``LLM_CACHE_SECONDS``, ``DATA_SOURCE_CACHE_SECONDS``) under a hash of
the settings they were taken with, so a busy health endpoint does not hammer the provider or the data
source, and a configuration change is probed afresh at once. ``cached: true`` says a result came from there.

The reports hold states, words and numbers only; host, path, key and error text go to the log (warning),
never to a response (the health runner also drops any other value before it is published).
"""

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache

from health.registry import DEGRADED, HEALTHY, NOT_CONFIGURED, CheckResult, register_check
from majed_vanna.circuit_breakers import CLOSED, UNKNOWN, find_breaker

from . import probes, runtime
from .selectors import UNREADABLE, llm_key
from .validation import data_source_provider, sqlite_path

logger = logging.getLogger(__name__)

LLM_CACHE_SECONDS = 30
DATA_SOURCE_CACHE_SECONDS = 15
LLM_PROBE_TIMEOUT_SECONDS = 2.0
DATA_SOURCE_TIMEOUT_SECONDS = 2
LLM_BREAKER = "llm"
EMBEDDED_DATA_SOURCE_FILE = "demo.sqlite3"  # MV_DATA_SOURCE_URL's default (settings), inside MV_DATA_DIR


def register_config_checks() -> None:
    register_check("llm", llm_check, required=False)
    register_check("data_source", data_source_check, required=False)


def _configuration() -> dict[str, Any]:
    """The runtime configuration; the environment's defaults when it cannot be read (database or cache
    down: the ``database``/``cache`` checks report that), as everywhere else in the API."""
    try:
        return runtime.runtime_config_values()
    except Exception as exc:  # debug only: on every health call while it lasts, and reported by those checks
        logger.debug("Health: runtime configuration unreadable (%s); using defaults", type(exc).__name__)
        return runtime.default_values()


def _cached(kind: str, fingerprint: str, ttl: int, probe: Callable[[], dict]) -> tuple[dict, bool]:
    """``probe()``'s result, shared through the cache for ``ttl`` seconds; ``(result, came_from_cache)``."""
    key = f"config_api:health:{kind}:" + hashlib.sha256(fingerprint.encode()).hexdigest()[:32]
    try:
        stored = cache.get(key)
    except Exception:  # the cache is down: probe anyway (the cache check reports the outage)
        stored = None
    if stored is not None:
        return stored, True
    result = probe()
    try:
        cache.set(key, result, timeout=ttl)
    except Exception:
        logger.debug("Health: could not keep the %s result in the cache", kind)
    return result, False


def _is_missing_embedded_default(url: str) -> bool:
    if data_source_provider(url) != "sqlite":
        return False
    path = sqlite_path(url)
    return path.resolve() == (Path(settings.DATA_DIR) / EMBEDDED_DATA_SOURCE_FILE).resolve() and not path.exists()


def data_source_check() -> CheckResult:
    url = _configuration()["data_source_url"]
    provider = data_source_provider(url)
    if _is_missing_embedded_default(url):
        return CheckResult(NOT_CONFIGURED, {"provider": provider})

    def probe() -> dict:
        outcome = probes.check_data_source(url, timeout=DATA_SOURCE_TIMEOUT_SECONDS)
        if outcome.reason:
            logger.warning("Health: data source check failed (%s): %s", outcome.reason, outcome.message)
        return {"reason": outcome.reason}

    result, cached = _cached("data_source", url, DATA_SOURCE_CACHE_SECONDS, probe)
    details = {"provider": provider, "cached": cached}
    if result["reason"] is None:
        return CheckResult(HEALTHY, details)
    return CheckResult(DEGRADED, {**details, "reason": result["reason"]})


def _breaker_state() -> str | None:
    breaker = find_breaker(LLM_BREAKER)
    return breaker.status().state if breaker is not None else None


def llm_check() -> CheckResult:
    values = _configuration()
    provider = values["llm_provider"]
    if provider not in probes.DEFAULT_BASE_URLS:
        return CheckResult(NOT_CONFIGURED)
    details: dict[str, Any] = {"provider": provider}
    breaker = _breaker_state()
    if breaker is not None:
        details["circuit_breaker"] = breaker
    key = llm_key()
    if key.source == UNREADABLE:  # never replaced by LLM_API_KEY; selectors.llm_key logs it once
        return CheckResult(DEGRADED, {**details, "reason": "api_key_unreadable"})
    api_key = key.value
    if not api_key:
        return CheckResult(DEGRADED, {**details, "reason": "no_api_key"})
    if not values["llm_model"]:
        return CheckResult(DEGRADED, {**details, "reason": "no_model"})
    base_url = values["llm_base_url"]

    def probe() -> dict:
        outcome, http_status = probes.llm_reachability(
            provider=provider, base_url=base_url, api_key=api_key, timeout=LLM_PROBE_TIMEOUT_SECONDS
        )
        if outcome != "ok":
            logger.warning("Health: LLM provider check failed: %s (HTTP %s)", outcome, http_status)
        return {"outcome": outcome, "http_status": http_status}

    result, cached = _cached("llm", f"{provider}\n{base_url}\n{api_key}", LLM_CACHE_SECONDS, probe)
    details.update(cached=cached, http_status=result["http_status"])
    if result["outcome"] != "ok":
        return CheckResult(DEGRADED, {**details, "reason": result["outcome"]})
    if breaker not in (None, CLOSED, UNKNOWN):
        return CheckResult(DEGRADED, {**details, "reason": "circuit_open"})
    return CheckResult(HEALTHY, details)
