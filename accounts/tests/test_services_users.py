"""User services on their own (the admin site and commands call them without the API's authentication).

Defect (issue 12): the role rules read ``actor.role`` directly, while every other permission
(``mv_permissions``) is empty for an inactive account. So an admin deactivated while holding a session or a
request (or any caller passing a stale user object) could still create users and make a *permitted role
change*, skipping the ``active`` check that every other permission applies (changing ``active`` itself was
checked, through ``delete_user``). An inactive actor manages nobody.
"""

import pytest

from accounts import services
from accounts.models import AuditLog, User
from accounts.permissions import Role
from accounts.tests.factories import UserFactory
from majed_vanna.exceptions import PermissionDeniedError

pytestmark = pytest.mark.django_db


@pytest.fixture
def inactive_admin():
    return UserFactory(role=Role.ADMIN, is_active=False)


def test_an_inactive_admin_cannot_change_a_role(inactive_admin):
    target = UserFactory(role=Role.NORMAL)
    with pytest.raises(PermissionDeniedError):
        services.user_update(actor=inactive_admin, user=target, data={"role": Role.ADMIN})
    target.refresh_from_db()
    assert target.role == Role.NORMAL
    denied = AuditLog.objects.get(action="permission.denied")
    assert denied.user_id == str(inactive_admin.pk) and denied.success is False


def test_an_inactive_admin_cannot_change_role_and_active_together(inactive_admin):
    target = UserFactory(role=Role.NORMAL, is_active=False)
    with pytest.raises(PermissionDeniedError):
        services.user_update(actor=inactive_admin, user=target, data={"role": Role.SUPERUSER, "active": True})
    target.refresh_from_db()
    assert (target.role, target.is_active) == (Role.NORMAL, False)


def test_an_inactive_admin_cannot_create_or_delete_users(inactive_admin):
    with pytest.raises(PermissionDeniedError):
        services.user_create(
            actor=inactive_admin, username="new@example.com", password="a-long-password-1", role=Role.NORMAL
        )
    target = UserFactory(role=Role.NORMAL)
    with pytest.raises(PermissionDeniedError):
        services.user_delete(actor=inactive_admin, user=target)
    assert not User.objects.filter(username="new@example.com").exists()
    target.refresh_from_db()
    assert target.is_active


def test_an_active_admin_still_changes_roles(admin):
    target = UserFactory(role=Role.NORMAL)
    services.user_update(actor=admin, user=target, data={"role": Role.SUPERUSER})
    target.refresh_from_db()
    assert target.role == Role.SUPERUSER
