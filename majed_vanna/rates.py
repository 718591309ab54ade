"""Checks of rate values set at run time (the runtime configuration's ``rate_limits`` map, an integration
client's ``rate_limit``): each is a rate ``majed_vanna.api.throttles.parse_rate`` reads, with a positive
count and window. Each check returns the normalised value or raises ``ValueError`` with a message."""

import re
from typing import Any

SCOPE_PATTERN = re.compile(r"^[a-z_]+(\.[a-z_]+)*$")
MAX_SCOPE_LENGTH = 64
MAX_RATE_LENGTH = 32
MAX_SCOPES = 100
MAX_COUNT = 100_000_000
# A counter lives one period in the shared cache: a longer period (``1/99999999999999999d``) could not be set as
# a Redis expiry, so the throttle failed open and the counters never expired.
MAX_PERIOD_SECONDS = 86_400
# The login's per-IP/per-username rate and lockout are a security control, not a rate to raise at run time.
PROTECTED_SCOPES = frozenset({"auth.login"})
RATE_HELP = (
    'A rate such as "100/hour", "10/minute" or "60/30s": a positive count per positive period of at most one day.'
)


def check_rate(value: Any) -> str:
    from majed_vanna.api.throttles import parse_rate

    if not isinstance(value, str) or not value.strip() or len(value) > MAX_RATE_LENGTH:
        raise ValueError(RATE_HELP)
    rate = value.strip().replace(" ", "")
    if "/" not in rate:
        raise ValueError(RATE_HELP)
    try:
        count, seconds = parse_rate(rate)
    except ValueError:
        raise ValueError(RATE_HELP) from None
    if not 0 < count <= MAX_COUNT or not 0 < seconds <= MAX_PERIOD_SECONDS:
        raise ValueError(RATE_HELP)
    return rate


def check_scope(name: Any) -> str:
    if not isinstance(name, str) or len(name) > MAX_SCOPE_LENGTH or not SCOPE_PATTERN.match(name):
        raise ValueError(
            f"A scope is a dotted lower-case name such as 'agent.chat' (letters and _, at most {MAX_SCOPE_LENGTH})."
        )
    if name in PROTECTED_SCOPES:
        raise ValueError(
            f"'{name}' cannot be overridden: the login's rate and lockout are set by LOGIN_RATE, "
            "LOGIN_FAILURE_LIMIT and LOGIN_LOCKOUT_SECONDS."
        )
    return name


def check_rate_map(value: Any) -> dict[str, str]:
    """A map scope -> rate, sorted; ``RateMapError`` (a ``ValueError``) names each bad entry."""
    if not isinstance(value, dict):
        raise ValueError('An object mapping scope names to rates, e.g. {"agent.chat": "10000/hour"}.')
    if len(value) > MAX_SCOPES:
        raise ValueError(f"At most {MAX_SCOPES} scopes.")
    checked: dict[str, str] = {}
    errors: dict[str, str] = {}
    for scope, rate in value.items():
        try:
            checked[check_scope(scope)] = check_rate(rate)
        except ValueError as exc:
            errors[str(scope)[:MAX_SCOPE_LENGTH]] = str(exc)
    if errors:
        raise RateMapError(errors)
    return dict(sorted(checked.items()))


class RateMapError(ValueError):
    """Bad entries of a rate map: ``errors`` is ``{scope: message}``."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{scope}: {message}" for scope, message in errors.items()))
        self.errors = errors
