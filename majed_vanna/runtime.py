"""Runtime configuration as seen by the core (throttles, circuit breakers).

The core never imports an app. ``config_api`` registers a provider at start-up that returns the current
runtime configuration as a dict (cache-backed, so every server process sees a change within seconds);
without one, settings' defaults apply.

A provider may read the database. Code that must not (it runs on a pool thread whose database connection
nobody would close, e.g. the circuit breakers' ``aguard()``) asks with ``database=False``: the provider's
``offline`` variant answers from memory (the values last loaded, else the defaults) and never touches the
database. A provider registered without an ``offline`` variant is taken to need no database at all.
"""

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

Provider = Callable[[], dict[str, Any]]
_provider: Provider | None = None
_offline_provider: Provider | None = None


def set_runtime_config_provider(provider: Provider | None, *, offline: Provider | None = None) -> None:
    """Register ``provider`` (and ``offline``, its variant that never reads the database)."""
    global _provider, _offline_provider
    _provider = provider
    _offline_provider = offline or provider


def runtime_values(*, database: bool = True) -> dict[str, Any]:
    """The whole current runtime configuration in one read (empty when none is configured or readable).
    Read it once per request and pick several values, rather than calling ``runtime_value`` repeatedly.

    ``database=False``: answer without any database access on this thread (memoised values or defaults)."""
    provider = _provider if database else _offline_provider
    if provider is None:
        return {}
    try:
        return provider() or {}
    except Exception:  # configuration trouble must not take the API down
        logger.exception("Runtime configuration provider failed; using defaults")
        return {}


def runtime_value(name: str, default: Any, *, database: bool = True) -> Any:
    """The current value of one runtime setting, or ``default`` when none is configured or readable."""
    value = runtime_values(database=database).get(name)
    return default if value is None else value
