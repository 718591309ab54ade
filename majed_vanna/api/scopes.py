"""Named rate-limit scopes and the rate in force for each (contract §3).

Every endpoint names its scope (``users.list``, ``agent.chat`` ...). The rate of a scope is, first match wins:

1. ``auth.login``: the settings' login rate, always (the lockout is not a rate and is not overridable);
2. the caller's own ``rate_limit`` (an integration client may carry one; one rate for all its scopes);
3. the runtime configuration's ``rate_limits`` map (``PUT config``), applied in every process within seconds;
4. the contract's default for the scope (``DEFAULT_RATES``);
5. otherwise the scope is counted in the shared ``default`` scope at the runtime configuration's
   ``rate_limit_max_requests`` per ``rate_limit_window`` (or ``rate_limits["default"]`` when set).

A scope with its own rate keeps its own counter; every other endpoint shares the caller's ``default`` budget.
"""

from dataclasses import dataclass

from django.conf import settings

from majed_vanna.rates import PROTECTED_SCOPES
from majed_vanna.runtime import runtime_values

from .throttles import parse_rate

LOGIN_SCOPE = "auth.login"
DEFAULT_SCOPE = "default"
PROBE_RATE = "6000/hour"  # liveness/readiness: polled by orchestrators and load balancers

# The contract's defaults (§3) and a few more endpoints that need their own budget.
DEFAULT_RATES: dict[str, str] = {
    "auth.change_password": "5/minute",
    "auth.websocket": "30/minute",  # WebSocket auth messages, per address
    "users.list": "100/hour",
    "users.create": "50/hour",
    "users.delete": "20/hour",
    "config.read": "60/hour",
    "config.update": "10/hour",
    "config.test_database": "20/hour",
    "config.test_llm": "20/hour",
    "agent.chat": "100/hour",
    "agent.tools": "200/hour",
    "health": "1000/hour",
    "health.ready": PROBE_RATE,
    "health.detailed": "100/hour",
    "integrations.create": "50/hour",
    "integrations.list": "100/hour",
    "api.schema": "300/hour",  # public, and each request builds the schema (0.1-0.4 s of CPU)
}

NOT_OVERRIDABLE = PROTECTED_SCOPES  # checked again here: a stored map predating the check must not apply


@dataclass(frozen=True)
class ScopeRate:
    counter: str  # the counter the hit goes to: the scope itself, or the shared "default"
    rate: str


def global_default_rate(values: dict | None = None) -> str:
    """``rate_limit_max_requests`` per ``rate_limit_window`` seconds, else ``DEFAULT_THROTTLE_RATE``."""
    values = runtime_values() if values is None else values
    max_requests, window = values.get("rate_limit_max_requests"), values.get("rate_limit_window")
    if max_requests and window:
        return f"{int(max_requests)}/{int(window)}s"
    return settings.DEFAULT_THROTTLE_RATE


def rate_for(scope: str, principal=None) -> ScopeRate:
    """The counter and rate in force for ``scope`` and this caller (one read of the runtime configuration)."""
    if scope == LOGIN_SCOPE:
        return ScopeRate(scope, settings.LOGIN_RATE)
    own = getattr(principal, "rate_limit", None)
    if own:
        return ScopeRate(scope, own)
    values = runtime_values()
    overrides = values.get("rate_limits") or {}
    if scope in overrides and scope not in NOT_OVERRIDABLE:
        return ScopeRate(scope, overrides[scope])
    if scope in DEFAULT_RATES:
        return ScopeRate(scope, DEFAULT_RATES[scope])
    return ScopeRate(DEFAULT_SCOPE, overrides.get(DEFAULT_SCOPE) or global_default_rate(values))


def register_scope(scope: str, default_rate: str) -> None:
    """Declare an app's scope and its default rate (the runtime configuration may still override it)."""
    parse_rate(default_rate)  # a bad rate fails at start-up, not on the first request
    DEFAULT_RATES[scope] = default_rate
