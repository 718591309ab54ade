"""Field validators shared by the model, the API serializers and the admin form."""

import ipaddress

from django.core.exceptions import ValidationError

from majed_vanna.rates import check_rate
from majed_vanna.roles import INTEGRATION_PERMISSIONS

MAX_IP_RANGES = 50


def validate_integration_permissions(value) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError("Must be a list of permission names.")
    unknown = sorted(set(value) - INTEGRATION_PERMISSIONS)
    if unknown:
        allowed = ", ".join(sorted(INTEGRATION_PERMISSIONS))
        raise ValidationError(f"Unknown or not allowed for clients: {', '.join(unknown)} (allowed: {allowed}).")


def normalize_rate_limit(value) -> str | None:
    """A client's own rate (``"10000/hour"``) in normal form, ``None`` for none (blank or null)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return check_rate(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


def validate_rate_limit(value) -> None:
    normalize_rate_limit(value)


def normalize_cidr(value: str) -> str:
    """``"10.0.0.0/8"``, ``"192.168.1.7"`` (one host) or an IPv6 network -> its normal form."""
    try:
        return str(ipaddress.ip_network(str(value).strip(), strict=False))
    except ValueError as exc:
        raise ValidationError(f"{value!r} is not an IP address or CIDR range.") from exc


def validate_cidr_list(value) -> None:
    if not isinstance(value, list):
        raise ValidationError("Must be a list of CIDR ranges.")
    if len(value) > MAX_IP_RANGES:
        raise ValidationError(f"At most {MAX_IP_RANGES} ranges.")
    for item in value:
        normalize_cidr(item)
