"""The audit trail (contract §5 "Audit"), as every app records it: one event per state change or security
event, never a secret.

The core holds no models. ``accounts`` owns the ``AuditLog`` table and registers the sink that writes an
event there (``set_audit_sink`` in ``AccountsConfig.ready()``, as ``config_api`` registers the runtime
configuration provider with ``majed_vanna.runtime``). ``audit_record`` returns what the sink returns (the
stored row). Without a sink nothing could be recorded, so ``audit_record`` refuses rather than lose the event.

Secrets are removed here, before any sink sees the event (``scrub``).
"""

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from .api.callers import principal_identity
from .request_context import client_ip_var, current_request_id, user_agent_var

logger = logging.getLogger(__name__)

REDACTED = "[redacted]"

# Keys whose value is a secret, matched exactly after normalising (lower case, "-" and " " as "_").
SECRET_KEYS = frozenset(
    {
        "password",
        "new_password",
        "current_password",
        "old_password",
        "temporary_password",
        "passphrase",
        "secret",
        "client_secret",
        "secret_key",
        "private_key",
        "api_key",
        "apikey",
        "x_api_key",
        "llm_api_key",
        "token",
        "access",
        "refresh",
        "access_token",
        "refresh_token",
        "id_token",
        "signature",
        "x_signature",
        "authorization",
        "cookie",
        "set_cookie",
    }
)
# ... and keys ending in one of these (``db_password``, ``webhook_secret``, ``github_token``).
SECRET_SUFFIXES = ("_password", "_secret", "_token", "_api_key")
_NORMALISE = re.compile(r"[\s\-]+")


@dataclass(frozen=True)
class AuditEvent:
    """One audit event as a sink receives it: already scrubbed, with the request's id, IP and user agent."""

    action: str
    user_id: str = ""
    username: str = ""
    resource: str = ""
    resource_id: str = ""
    details: dict = field(default_factory=dict)
    ip_address: str | None = None
    user_agent: str = ""
    request_id: str = ""
    success: bool = True
    error_message: str = ""


AuditSink = Callable[[AuditEvent], Any]
_sink: AuditSink | None = None


def set_audit_sink(sink: AuditSink | None) -> None:
    """Register the function that stores audit events (``accounts`` does, at start-up)."""
    global _sink
    _sink = sink


def is_secret_key(key: Any) -> bool:
    """Whether a details key names a secret: an exact name or a secret suffix. Dotted keys are labels
    (``token_blacklist.outstandingtoken``), never secret names."""
    name = _NORMALISE.sub("_", str(key).strip().lower())
    if "." in name:
        return False
    return name in SECRET_KEYS or name.endswith(SECRET_SUFFIXES)


def _redacted(value: Any) -> Any:
    """The value under a secret-named key: flags and absent values stay (``must_change_password: true``
    says something about a password, it is not one); a dict (``{"old": .., "new": ..}``) or list keeps its
    shape with each such leaf judged the same way; anything else is ``[redacted]``."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item) for item in value]
    return REDACTED


def scrub(details: Any) -> Any:
    """``details`` with every secret value (the value of a secret-named key) replaced by ``[redacted]``."""
    if isinstance(details, dict):
        return {key: (_redacted(value) if is_secret_key(key) else scrub(value)) for key, value in details.items()}
    if isinstance(details, list | tuple):
        return [scrub(item) for item in details]
    return details


def audit_record(
    *,
    action: str,
    actor=None,
    resource: str = "",
    resource_id: Any = "",
    details: dict | None = None,
    success: bool = True,
    error_message: str = "",
    actor_id: str | None = None,
    actor_name: str | None = None,
) -> Any:
    """Record one audit event with the current request's id, IP and user agent; returns the stored row."""
    if _sink is None:
        raise ImproperlyConfigured("No audit sink is registered (the accounts app registers it at start-up).")
    user_id, username = principal_identity(actor)
    event = AuditEvent(
        action=action,
        user_id=actor_id if actor_id is not None else user_id,
        username=actor_name if actor_name is not None else username,
        resource=resource,
        resource_id=str(resource_id or ""),
        details=scrub(details or {}),
        ip_address=client_ip_var.get(),
        user_agent=user_agent_var.get() or "",
        request_id=current_request_id() or "",
        success=success,
        error_message=error_message[:500],
    )
    return _sink(event)


def audit_permission_denied(*, request, permission: str) -> None:
    """Audit a refused call (``permission.denied``); never lets an audit failure hide the 403."""
    try:
        audit_record(
            action="permission.denied",
            actor=request.user,
            resource=request.path[:64],
            details={"method": request.method, "permission": permission},
            success=False,
            error_message="Permission denied",
        )
    except Exception:
        logger.exception("Could not write the permission.denied audit row")


def audit_denied_and_raise(*, actor, message: str, resource: str = "user", resource_id: Any = "", action: str = ""):
    """Audit a refusal decided in a service (``permission.denied``) and raise 403 PERMISSION_DENIED."""
    from .exceptions import PermissionDeniedError

    audit_record(
        action="permission.denied",
        actor=actor,
        resource=resource,
        resource_id=resource_id,
        details={"operation": action},
        success=False,
        error_message=message,
    )
    raise PermissionDeniedError(message)
