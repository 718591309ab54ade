"""Permission classes shared by every app.

Principals (users and integration clients) expose ``mv_permissions``: the set of contract §4 permission
names they hold. Views declare what each action needs::

    required_permissions = {"list": "read_user", "create": "create_user"}   # or one string for all
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


class HasRequiredPermission(BasePermission):
    """Checks ``view.required_permissions`` against the caller's permissions; a denial is audited."""

    def has_permission(self, request, view):
        needed = required_permission(view, request)
        if needed is None or needed in principal_permissions(request.user):
            return True
        from accounts.services import audit_permission_denied  # imported late: core must not load apps early

        audit_permission_denied(request=request, permission=needed)
        raise PermissionDeniedError()
