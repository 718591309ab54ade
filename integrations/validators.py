"""Field validators shared by the model, the API serializers and the admin form."""

import ipaddress

from django.core.exceptions import ValidationError

from majed_vanna.roles import INTEGRATION_PERMISSIONS

MAX_IP_RANGES = 50


def validate_integration_permissions(value) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError("Must be a list of permission names.")
    unknown = sorted(set(value) - INTEGRATION_PERMISSIONS)
    if unknown:
        allowed = ", ".join(sorted(INTEGRATION_PERMISSIONS))
        raise ValidationError(f"Unknown or not allowed for clients: {', '.join(unknown)} (allowed: {allowed}).")


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
