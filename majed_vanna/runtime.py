"""Runtime configuration as seen by the core (throttles, circuit breakers).

The core never imports an app. ``config_api`` registers a provider at start-up that returns the current
runtime configuration as a dict (cache-backed, so every server process sees a change within seconds);
without one, settings' defaults apply.
"""

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

_provider: Callable[[], dict[str, Any]] | None = None


def set_runtime_config_provider(provider: Callable[[], dict[str, Any]] | None) -> None:
    global _provider
    _provider = provider


def runtime_values() -> dict[str, Any]:
    """The whole current runtime configuration in one read (empty when none is configured or readable).
    Read it once per request and pick several values, rather than calling ``runtime_value`` repeatedly."""
    if _provider is None:
        return {}
    try:
        return _provider() or {}
    except Exception:  # configuration trouble must not take the API down
        logger.exception("Runtime configuration provider failed; using defaults")
        return {}


def runtime_value(name: str, default: Any) -> Any:
    """The current value of one runtime setting, or ``default`` when none is configured or readable."""
    value = runtime_values().get(name)
    return default if value is None else value
