"""The audit trail (contract §5 "Audit"): one row per state change or security event, never a secret."""

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from majed_vanna.api.callers import principal_identity
from majed_vanna.request_context import client_ip_var, current_request_id, user_agent_var

from ..models import AuditLog

logger = logging.getLogger(__name__)

SECRET_MARKERS = ("password", "secret", "token", "api_key", "apikey", "signature", "authorization")


def scrub(details: Any) -> Any:
    """Drop any value whose key looks like a secret: audit rows never hold one."""
    if isinstance(details, dict):
        return {
            key: ("[redacted]" if any(m in str(key).lower() for m in SECRET_MARKERS) else scrub(value))
            for key, value in details.items()
        }
    if isinstance(details, list):
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
) -> AuditLog:
    """Write one audit row with the current request's id, IP and user agent."""
    user_id, username = principal_identity(actor)
    return AuditLog.objects.create(
        user_id=actor_id if actor_id is not None else user_id,
        username=actor_name if actor_name is not None else username,
        action=action,
        resource=resource,
        resource_id=str(resource_id or ""),
        details=scrub(details or {}),
        ip_address=client_ip_var.get(),
        user_agent=user_agent_var.get() or "",
        request_id=current_request_id() or "",
        success=success,
        error_message=error_message[:500],
    )


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
    from majed_vanna.exceptions import PermissionDeniedError

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


@transaction.atomic
def audit_prune(*, older_than_days: int, actor_name: str = "manage.py") -> int:
    """Delete audit rows older than ``older_than_days`` days (retention); the pruning is itself audited."""
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = AuditLog.objects.filter(timestamp__lt=cutoff).delete()
    audit_record(
        action="audit.prune",
        actor_id="",
        actor_name=actor_name,
        resource="audit_log",
        details={"older_than_days": older_than_days, "deleted": deleted, "cutoff": cutoff.isoformat()},
    )
    return deleted
