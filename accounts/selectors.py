"""Read-side helpers of the accounts app, for this app's views and for other apps."""

import importlib
import logging
from datetime import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet

from majed_vanna.api.filtering import filter_queryset
from majed_vanna.cache_client import CACHE_ERRORS

from . import lockout
from .filters import AuditLogFilter, UserFilter
from .models import AuditLog, User
from .permissions import INTEGRATION_ROLE, Role

logger = logging.getLogger(__name__)


def _is_client(principal) -> bool:
    return bool(getattr(principal, "integration_client_id", None))


def user_visible_queryset(*, actor) -> QuerySet[User]:
    """Users ``actor`` may see: admins everyone, superusers normal users and themselves, anyone else
    only themselves, integration clients nobody (contract §4)."""
    if actor is None or not getattr(actor, "is_authenticated", False) or _is_client(actor):
        return User.objects.none()
    role = getattr(actor, "role", None)
    if role == Role.ADMIN:
        return User.objects.all()
    if role == Role.SUPERUSER:
        return User.objects.filter(Q(role=Role.NORMAL) | Q(pk=actor.pk))
    return User.objects.filter(pk=actor.pk)


def user_by_username(username: str) -> User | None:
    """The user an operator names (email, any case), or ``None``."""
    return User.objects.filter(username=lockout.normalize_username(username)).first()


def first_admin() -> User | None:
    """The oldest active admin (operators' commands act as them unless told otherwise)."""
    return User.objects.filter(role=Role.ADMIN, is_active=True).order_by("created_at", "id").first()


def user_by_id(user_id) -> User | None:
    """The active user ``user_id`` (a background job acting for the user who started it), or ``None``."""
    try:
        return User.objects.filter(pk=user_id, is_active=True).first()
    except (ValueError, TypeError, DjangoValidationError):
        return None


def user_list(*, actor, params) -> QuerySet[User]:
    """Visible users filtered by ``role``, ``active``, ``search`` and sorted by ``ordering``."""
    return filter_queryset(UserFilter, params, user_visible_queryset(actor=actor).order_by("username"))


def user_lock_states(*, users) -> set[str]:
    """Usernames among ``users`` that are locked out right now.

    The lock state lives in the cache. When the cache cannot be reached the state is unknown and every user
    is shown unlocked (``locked: false``), logged: this runs after a write's commit too (``POST users``), and
    an acknowledged write must not turn into a 503. Logins are refused meanwhile (503), so no lock is missed.
    """
    try:
        return lockout.locked_usernames([user.username for user in users])
    except CACHE_ERRORS:
        logger.warning("Lock states unknown (the cache is unavailable): shown as unlocked")
        return set()


def user_conversation_list(*, user: User):
    """Conversations of ``user`` for ``GET users/{id}/conversations``.

    The agent app provides ``agent.selectors.conversations_for_user(*, user)`` returning a sequence or
    QuerySet of plain dicts; until it does, this is an empty list.
    """
    try:
        module = importlib.import_module("agent.selectors")
    except ModuleNotFoundError as exc:
        if exc.name != "agent.selectors":
            raise
        return []
    provider = getattr(module, "conversations_for_user", None)
    return provider(user=user) if provider is not None else []


def audit_log_list(*, params) -> QuerySet[AuditLog]:
    """Audit rows, newest first, filtered by ``action``, ``user_id``, ``resource``, ``success``,
    ``since`` and ``until``."""
    return filter_queryset(AuditLogFilter, params, AuditLog.objects.order_by("-timestamp", "-id"))


def principal_profile(principal) -> dict:
    """What ``auth/me`` says about the caller: a user or an integration client (contract §5)."""
    permissions = sorted(getattr(principal, "mv_permissions", ()) or ())
    if _is_client(principal):
        return {
            "principal_type": "integration_client",
            "client_id": str(principal.integration_client_id),
            "client_name": getattr(principal, "client_name", "") or "",
            "role": INTEGRATION_ROLE,
            "roles": [INTEGRATION_ROLE],
            "permissions": permissions,
            "must_change_password": False,
        }
    return {
        "principal_type": "user",
        "user_id": str(principal.pk),
        "id": str(principal.pk),
        "username": principal.username,
        "role": principal.role,
        "roles": [principal.role],
        "permissions": permissions,
        "must_change_password": principal.must_change_password,
        "active": principal.is_active,
        "created_at": principal.created_at,
        "last_login": principal.last_login,
    }


def user_token_profile(user: User) -> dict:
    """The ``user`` block of the login response: ``id`` as the contract lists it, and ``user_id`` as every other
    user payload names it."""
    return {
        "user_id": str(user.pk),
        "id": str(user.pk),
        "username": user.username,
        "role": user.role,
        "roles": [user.role],
        "permissions": sorted(user.mv_permissions),
        "must_change_password": user.must_change_password,
    }


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
