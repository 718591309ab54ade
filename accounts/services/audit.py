"""The audit trail's storage: accounts owns the ``AuditLog`` table. Recording is the core's
(``majed_vanna.audit``); this module is the sink it writes through (registered in ``AccountsConfig.ready()``)
and the retention prune."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from majed_vanna.audit import AuditEvent, audit_record

from ..models import AuditLog


def audit_log_write(event: AuditEvent) -> AuditLog:
    """The audit sink: store one (already scrubbed) event as an ``AuditLog`` row."""
    return AuditLog.objects.create(
        user_id=event.user_id,
        username=event.username,
        action=event.action,
        resource=event.resource,
        resource_id=event.resource_id,
        details=event.details,
        ip_address=event.ip_address,
        user_agent=event.user_agent,
        request_id=event.request_id,
        success=event.success,
        error_message=event.error_message,
    )


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
