"""Operator commands: createsuperuser, seed_demo, unlock_user, prune_audit (contract §7)."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts import lockout
from accounts.models import AuditLog, User

pytestmark = pytest.mark.django_db


def run(*args, **kwargs) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **kwargs)
    return out.getvalue()


def test_createsuperuser_creates_an_admin(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "operator-password-123")
    run("createsuperuser", "--noinput", "--username", "Ops@Example.com")
    user = User.objects.get(username="ops@example.com")
    assert user.role == "admin" and user.is_staff and user.check_password("operator-password-123")


def test_seed_demo_with_a_generated_password_is_printed_once(settings):
    settings.MV_ADMIN_PASSWORD = None
    first = run("seed_demo")
    password = first.split("password: ")[1].split()[0]
    admin = User.objects.get(username="admin@example.com")
    assert admin.role == "admin" and admin.check_password(password)
    second = run("seed_demo")
    assert "already exists" in second and password not in second
    assert User.objects.filter(username="admin@example.com").count() == 1
    [row] = AuditLog.objects.filter(action="user.create")
    assert password not in str(row.details)


def test_seed_demo_uses_mv_admin_password(settings):
    settings.MV_ADMIN_PASSWORD = "demo-admin-password-9"
    output = run("seed_demo")
    assert "demo-admin-password-9" not in output
    assert User.objects.get(username="admin@example.com").check_password("demo-admin-password-9")


def test_seed_demo_refuses_a_weak_mv_admin_password(settings):
    settings.MV_ADMIN_PASSWORD = "short"
    with pytest.raises(CommandError):
        run("seed_demo")
    assert not User.objects.exists()


def test_unlock_user(user):
    for _ in range(5):
        lockout.register_failure(user.username)
    assert "Unlocked" in run("unlock_user", user.username.upper())
    assert lockout.locked_for(user.username) == 0
    assert "was not locked" in run("unlock_user", user.username)
    row = AuditLog.objects.filter(action="user.unlock").first()
    assert row.username == "manage.py unlock_user" and row.resource_id == str(user.pk)


def test_unlock_unknown_user_fails():
    with pytest.raises(CommandError, match="No user"):
        run("unlock_user", "nobody@example.com")


def test_prune_audit():
    old = AuditLog.objects.create(action="old.event")
    AuditLog.objects.filter(pk=old.pk).update(timestamp=timezone.now() - timedelta(days=91))
    AuditLog.objects.create(action="new.event")
    assert "Deleted 1 audit row(s)" in run("prune_audit", "--older-than-days", "90")
    assert not AuditLog.objects.filter(action="old.event").exists()
    with pytest.raises(CommandError):
        run("prune_audit", "--older-than-days", "0")
