"""Read-side helpers of the accounts app, for this app's views and for other apps."""

from datetime import datetime

from .models import AuditLog


def audit_log_recent(*, since: datetime, limit: int = 50) -> list[dict]:
    """The newest audit rows since ``since`` (at most ``limit``), as plain dicts for other apps."""
    rows = AuditLog.objects.filter(timestamp__gte=since).order_by("-timestamp", "-id")[:limit]
    return [
        {
            "id": row.id,
            "timestamp": row.timestamp,
            "user_id": row.user_id,
            "username": row.username,
            "action": row.action,
            "resource": row.resource,
            "resource_id": row.resource_id,
            "success": row.success,
            "request_id": row.request_id,
        }
        for row in rows
    ]
