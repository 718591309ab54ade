"""Operator commands: createsuperuser, seed_demo, unlock_user, prune_audit (contract §7)."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts import lockout
from accounts.models import AuditLog, User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_data_dir(settings, tmp_path):
    """``seed_demo`` builds ``$MV_DATA_DIR/demo.sqlite3``: in this test's directory, not the run's shared one
    (whose missing demo file other tests rely on)."""
    settings.DATA_DIR = tmp_path
    settings.MV_DATA_SOURCE_URL = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    settings.MV_ALLOWED_PATH_ROOTS = [str(tmp_path)]


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


# --- createsuperuser: the password policy on every path, audited like the API -----------------------------


@pytest.mark.parametrize("password", ["short", "12345678901234", "password1234"])
def test_createsuperuser_noinput_refuses_a_password_the_policy_refuses(monkeypatch, password):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", password)
    with pytest.raises(CommandError):
        run("createsuperuser", "--noinput", "--username", "ops@example.com")
    assert not User.objects.exists()
    assert not AuditLog.objects.filter(action="user.create").exists()


def test_createsuperuser_is_audited_like_the_api(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "operator-password-123")
    output = run("createsuperuser", "--noinput", "--username", "ops@example.com")
    assert "Created ops@example.com (role admin)" in output
    user = User.objects.get(username="ops@example.com")
    row = AuditLog.objects.get(action="user.create")
    assert (row.username, row.user_id, row.resource_id) == ("manage.py", "", str(user.pk))
    assert row.details["role"] == "admin" and "operator-password-123" not in str(row.details)


def test_createsuperuser_refuses_an_existing_username(monkeypatch, admin):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "operator-password-123")
    with pytest.raises(CommandError, match="already exists"):
        run("createsuperuser", "--noinput", "--username", admin.username.upper())


def test_createsuperuser_username_from_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "env@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "operator-password-123")
    run("createsuperuser", "--noinput")
    assert User.objects.get(username="env@example.com").role == "admin"


@pytest.fixture
def typed_passwords(monkeypatch):
    """The passwords an operator types at the getpass prompts, in order."""
    answers: list[str] = []

    def getpass(prompt=""):
        if not answers:
            raise EOFError
        return answers.pop(0)

    monkeypatch.setattr("accounts.management.commands.createsuperuser.getpass.getpass", getpass)
    return answers


def test_createsuperuser_interactive_asks_again_and_never_offers_a_bypass(typed_passwords, capsys):
    typed_passwords.extend(["short", "short", "operator-password-123", "operator-password-123"])
    call_command("createsuperuser", stdin=StringIO("Ops@Example.com\n"))
    captured = capsys.readouterr()
    assert "too short" in captured.err and "Bypass" not in captured.out + captured.err
    user = User.objects.get(username="ops@example.com")
    assert user.role == "admin" and user.check_password("operator-password-123")


def test_createsuperuser_interactive_gives_up_after_three_weak_passwords(typed_passwords):
    typed_passwords.extend(["short"] * 6)
    with pytest.raises(CommandError, match="No acceptable password"):
        call_command("createsuperuser", "--username", "ops@example.com", stdout=StringIO(), stderr=StringIO())
    assert not User.objects.exists()


def test_createsuperuser_interactive_without_a_terminal_refuses(typed_passwords):
    with pytest.raises(CommandError, match="No password given"):
        call_command("createsuperuser", "--username", "ops@example.com", stdout=StringIO())
    with pytest.raises(CommandError, match="No email address"):
        call_command("createsuperuser", stdout=StringIO(), stdin=StringIO(""))
    assert not User.objects.exists()


# --- changepassword (found by the review of issue 12) -------------------------------------------------------
# Django's own command set the password without an audit row and left every token the user held working (an
# operator resetting a stolen account's password did not end the thief's session), and with stdin closed it
# printed an EOFError traceback.


def changepassword(username: str, stdin: str):
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command("changepassword", username, stdin=StringIO(stdin), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_changepassword_sets_the_password_ends_every_session_and_audits(user, api_client):
    from accounts.tokens import issue_token_pair

    pair = issue_token_pair(user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access_token}")
    assert api_client.get("/api/v1/auth/me").status_code == 200
    new = "another-long-password-42"
    out, _ = changepassword(user.username.upper(), f"{new}\n{new}\n")
    user.refresh_from_db()
    assert user.check_password(new) and "Password changed" in out
    assert api_client.get("/api/v1/auth/me").status_code == 401  # the old access token no longer works
    api_client.credentials()
    assert api_client.post("/api/v1/auth/refresh", {"refresh_token": pair.refresh_token}).status_code == 401
    [row] = AuditLog.objects.filter(action="user.password_set")
    assert row.resource_id == str(user.pk) and row.username == "manage.py changepassword"
    assert new not in str(row.details)


def test_changepassword_holds_the_password_policy(user):
    with pytest.raises(CommandError, match="No acceptable password"):
        changepassword(user.username, "short\nshort\n" * 3)
    user.refresh_from_db()
    assert not user.check_password("short")
    assert not AuditLog.objects.filter(action="user.password_set").exists()


def test_changepassword_with_stdin_closed_is_one_line_and_changes_nothing(user):
    with pytest.raises(CommandError, match="No password given"):
        changepassword(user.username, "")
    user.refresh_from_db()
    assert user.check_password("correct-horse-battery-staple-9")


def test_changepassword_of_an_unknown_user():
    with pytest.raises(CommandError, match="No user"):
        changepassword("nobody@example.com", "x\nx\n")
