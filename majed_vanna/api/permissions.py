"""Permission classes shared by every app.

Principals (users and integration clients) expose ``mv_permissions``: the set of contract §4 permission
names they hold. Views declare what each action needs::

    required_permissions = {"list": "read_user", "create": "create_user"}   # or one string for all

Views that only make sense for a person (a user's own account, password, refresh tokens) set
``users_only = True``: integration clients get 403 there whatever their permissions (contract §4).
"""

from rest_framework.permissions import BasePermission

from majed_vanna.exceptions import PasswordChangeRequiredError, PermissionDeniedError


def principal_permissions(user) -> frozenset[str]:
    return frozenset(getattr(user, "mv_permissions", ()) or ())


def required_permission(view, request) -> str | None:
    required = getattr(view, "required_permissions", None)
    if required is None:
        return None
    if isinstance(required, str):
        return required
    action = getattr(view, "action", None)
    for key in (action, request.method.lower()):
        if key and key in required:
            return required[key]
    return None


class PasswordChangeGate(BasePermission):
    """403 PASSWORD_CHANGE_REQUIRED for users who must change their password, except on views that
    set ``allow_when_password_change_required = True`` (me, change-password, refresh, logout)."""

    def has_permission(self, request, view):
        user = request.user
        if getattr(user, "must_change_password", False) and not getattr(
            view, "allow_when_password_change_required", False
        ):
            raise PasswordChangeRequiredError()
        return True


def _deny(request, permission: str, message: str | None = None):
    """Audit the refusal (``permission.denied``, the caller as actor) and raise 403 PERMISSION_DENIED."""
    from majed_vanna.audit import audit_permission_denied  # late: majed_vanna.audit imports this package

    audit_permission_denied(request=request, permission=permission)
    raise PermissionDeniedError(message)


class UsersOnlyGate(BasePermission):
    """403 PERMISSION_DENIED (audited) for integration clients on views that set ``users_only = True``.

    A client has no user account: the ``users`` resource, change-password and logout are not for it, and
    it is refused as a whole rather than answered 404 per object (which is for users who may not see one).
    """

    def has_permission(self, request, view):
        if getattr(view, "users_only", False) and getattr(request.user, "integration_client_id", None):
            _deny(request, "user_account", "Integration clients cannot use this endpoint.")
        return True


class HasRequiredPermission(BasePermission):
    """Checks ``view.required_permissions`` against the caller's permissions; a denial is audited."""

    def has_permission(self, request, view):
        needed = required_permission(view, request)
        if needed is None or needed in principal_permissions(request.user):
            return True
        _deny(request, needed)
