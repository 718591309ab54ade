"""User management services (contract §4, §5 "Users").

Rules enforced here, whatever the caller (API, admin site, commands):
- admins manage everyone; superusers manage normal users only (``role_can_manage``);
- nobody changes their own role or active flag, deletes themselves, or resets their own password here
  (``auth/change-password`` is the way); a user may change their own username;
- deleting is a soft delete: inactive, every outstanding token revoked, audit kept.
Callers are expected to have found ``user`` through ``selectors.user_visible_queryset`` (404 for hidden users:
``BaseViewSet.get_object``).
Refusals are audited (``permission.denied``) before the 403.
"""

import secrets
import string

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from majed_vanna.audit import audit_denied_and_raise, audit_record
from majed_vanna.exceptions import ConflictError, ValidationFailedError
from majed_vanna.roles import role_can_manage

from .. import lockout, tokens
from ..models import User

# API field name -> model attribute
UPDATABLE_FIELDS = {
    "username": "username",
    "role": "role",
    "active": "is_active",
    "must_change_password": "must_change_password",
}
SELF_LOCKED_FIELDS = ("role", "active", "must_change_password")


def _actor_role(actor) -> str:
    """The role the actor acts with: none when the account is inactive (like ``mv_permissions``)."""
    if actor is None or not getattr(actor, "is_active", False):
        return ""
    return getattr(actor, "role", "") or ""


def _is_self(actor, user: User) -> bool:
    return actor is not None and not getattr(actor, "integration_client_id", None) and actor.pk == user.pk


def _check_password_policy(password: str, user: User, field: str = "password") -> None:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationFailedError(details={field: exc.messages})


def _check_username_free(username: str, *, exclude_pk=None) -> None:
    taken = User.objects.filter(username__iexact=username)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ConflictError("A user with this username already exists")


def _save(user: User, update_fields: list[str] | None = None) -> None:
    try:
        user.full_clean(exclude=["password"])
        user.save(update_fields=update_fields)
    except IntegrityError:
        raise ConflictError("A user with this username already exists")


def user_create(*, actor, username: str, password: str, role: str, must_change_password: bool = True) -> User:
    """Create a user. Superusers may create normal users only."""
    if not role_can_manage(actor_role=_actor_role(actor), target_role=role):
        audit_denied_and_raise(actor=actor, message="You may not create users with this role.", action="user.create")
    username = lockout.normalize_username(username)
    _check_username_free(username)
    user = User(username=username, role=role, must_change_password=must_change_password)
    return _create(user, password, actor=actor)


def _create(user: User, password: str, **actor) -> User:
    """Check the password policy, save ``user`` and audit ``user.create`` in one transaction; ``actor`` is
    ``actor=`` (a principal) or ``actor_id=``/``actor_name=`` (an operator)."""
    _check_password_policy(password, user)
    user.set_password(password)
    with transaction.atomic():
        _save(user)
        audit_record(
            action="user.create",
            resource="user",
            resource_id=user.pk,
            details={"username": user.username, "role": user.role, "must_change_password": user.must_change_password},
            **actor,
        )
    return user


def user_create_by_operator(*, username: str, password: str, role: str, actor_name: str) -> User:
    """A user created from the command line (``createsuperuser``, ``seed_demo``): no acting user, so no role
    check, but the same username rules and password policy as the API, and the same ``user.create`` audit
    row (the actor is named by ``actor_name``, e.g. ``manage.py``)."""
    username = lockout.normalize_username(username)
    user = User(username=username, role=role, must_change_password=False)
    try:
        user.full_clean(exclude=["password"], validate_unique=False)
    except DjangoValidationError as exc:
        raise ValidationFailedError(details=exc.message_dict)
    _check_username_free(username)
    return _create(user, password, actor_id="", actor_name=actor_name)


def _current(user: User, name: str):
    return getattr(user, UPDATABLE_FIELDS[name])


def user_update(*, actor, user: User, data: dict) -> User:
    """Apply ``data`` (any of ``username``, ``role``, ``active``, ``must_change_password``).

    Unchanged values are accepted as no-ops. On oneself only ``username`` may change (403 otherwise).
    A superuser may not give anyone a role above normal, nor change ``active`` (deactivating is the soft
    delete, which needs ``delete_user``). Deactivating revokes every token.
    """
    if "username" in data:
        data = {**data, "username": lockout.normalize_username(data["username"])}
    changes = {
        name: value for name, value in data.items() if name in UPDATABLE_FIELDS and _current(user, name) != value
    }
    if not changes:
        return user
    if _is_self(actor, user):
        refused = [name for name in SELF_LOCKED_FIELDS if name in changes]
        if refused:
            audit_denied_and_raise(
                actor=actor,
                message=f"You may not change your own {', '.join(refused)}.",
                resource_id=user.pk,
                action="user.update",
            )
    elif "role" in changes and not role_can_manage(actor_role=_actor_role(actor), target_role=changes["role"]):
        audit_denied_and_raise(
            actor=actor, message="You may not give this role.", resource_id=user.pk, action="user.update"
        )
    elif "active" in changes and "delete_user" not in getattr(actor, "mv_permissions", ()):
        # Deactivating is the soft delete and reactivating undoes one: both need delete_user.
        audit_denied_and_raise(
            actor=actor, message="You may not activate or deactivate users.", resource_id=user.pk, action="user.update"
        )
    if "username" in changes:
        _check_username_free(changes["username"], exclude_pk=user.pk)
    old = {name: _current(user, name) for name in changes}
    for name, value in changes.items():
        setattr(user, UPDATABLE_FIELDS[name], value)
    deactivated = changes.get("active") is False
    if deactivated:
        user.tokens_valid_after = timezone.now()
    with transaction.atomic():
        _save(user)
        if deactivated:
            tokens.blacklist_all_for_user(user)
        audit_record(
            action="user.update",
            actor=actor,
            resource="user",
            resource_id=user.pk,
            details={"changes": {name: {"old": old[name], "new": changes[name]} for name in changes}},
        )
    return user


def user_delete(*, actor, user: User) -> None:
    """Soft delete: the user becomes inactive and every token they hold stops working at once."""
    if _is_self(actor, user):
        audit_denied_and_raise(
            actor=actor, message="You may not delete yourself.", resource_id=user.pk, action="user.delete"
        )
    if not role_can_manage(actor_role=_actor_role(actor), target_role=user.role):
        audit_denied_and_raise(
            actor=actor, message="You may not delete this user.", resource_id=user.pk, action="user.delete"
        )
    with transaction.atomic():
        was_active = user.is_active
        user.is_active = False
        revoked = tokens.revoke_all_for_user(user, changed_fields=["is_active"])
        audit_record(
            action="user.delete",
            actor=actor,
            resource="user",
            resource_id=user.pk,
            details={"username": user.username, "was_active": was_active, "refresh_revoked": revoked},
        )


def user_unlock(*, actor, user: User | None = None, username: str | None = None, actor_name: str | None = None) -> bool:
    """Lift a login lockout (API, admin site, ``manage.py unlock_user``); True if it was locked."""
    name = user.username if user is not None else lockout.normalize_username(username or "")
    was_locked = lockout.unlock(name)
    audit_record(
        action="user.unlock",
        actor=actor,
        actor_name=actor_name,
        actor_id="" if actor_name is not None else None,
        resource="user",
        resource_id=user.pk if user is not None else "",
        details={"username": name, "was_locked": was_locked},
    )
    return was_locked


def generate_temporary_password() -> str:
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(16))
        if any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate):
            return candidate


def user_reset_password(*, actor, user: User) -> str:
    """Give ``user`` a one-time temporary password (returned once, never stored in clear or audited).

    The user must change it at next login; their sessions end and any lockout is lifted.
    """
    if _is_self(actor, user):
        audit_denied_and_raise(
            actor=actor,
            message="Use auth/change-password to change your own password.",
            resource_id=user.pk,
            action="user.reset_password",
        )
    temporary = generate_temporary_password()
    with transaction.atomic():
        user.set_password(temporary)
        user.must_change_password = True
        tokens.revoke_all_for_user(user, changed_fields=["password", "must_change_password"])
        audit_record(action="user.reset_password", actor=actor, resource="user", resource_id=user.pk)
    lockout.unlock_after_commit(user.username)  # committed: a cache outage must not turn this into a 503
    return temporary


def user_set_password_by_operator(*, user: User, password: str, actor_name: str) -> None:
    """A password set from the command line (``manage.py changepassword``): the same password policy as the
    API, every token the user holds stops working, audited ``user.password_set`` (never the password)."""
    _check_password_policy(password, user)
    with transaction.atomic():
        user.set_password(password)
        tokens.revoke_all_for_user(user, changed_fields=["password"])
        audit_record(
            action="user.password_set",
            actor_id="",
            actor_name=actor_name,
            resource="user",
            resource_id=user.pk,
            details={"username": user.username},
        )
