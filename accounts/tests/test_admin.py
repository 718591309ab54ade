"""The Django admin: staff manage users without the API; the audit log is read-only."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import lockout
from accounts.models import AuditLog, User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from majed_vanna.audit import audit_record

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:accounts_user_changelist")


@pytest.fixture
def staff(admin):
    client = Client()
    client.force_login(admin)
    return client


def _action(staff, action: str, *users):
    return staff.post(CHANGELIST, {"action": action, "_selected_action": [str(u.pk) for u in users]})


def test_user_changelist_shows_role_active_and_lock_state(staff, user):
    lockout.unlock(user.username)
    for _ in range(5):
        lockout.register_failure(user.username)
    response = staff.get(CHANGELIST, {"q": user.username})
    assert response.status_code == 200
    page = response.content.decode()
    assert user.username in page and "Locked" in page
    assert staff.get(CHANGELIST, {"role__exact": "normal", "is_active__exact": "1"}).status_code == 200


def test_only_active_admins_reach_the_admin():
    client = Client()
    client.force_login(UserFactory(role="superuser"))
    assert client.get(CHANGELIST).status_code == 302  # sent to the login page


def test_unlock_action(staff, user, admin):
    for _ in range(5):
        lockout.register_failure(user.username)
    response = _action(staff, "unlock_users", user)
    assert response.status_code == 302
    assert lockout.locked_for(user.username) == 0
    assert AuditLog.objects.get(action="user.unlock").user_id == str(admin.pk)


def test_reset_password_action_shows_the_temporary_password_once(staff, user):
    response = _action(staff, "reset_passwords", user)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    user.refresh_from_db()
    assert user.must_change_password
    temporary = page.split("<code>")[1].split("</code>")[0]
    assert user.check_password(temporary)
    assert temporary not in staff.get(CHANGELIST).content.decode()


def test_deactivate_action_soft_deletes_but_never_yourself(staff, user, admin):
    _action(staff, "deactivate_users", user, admin)
    assert not User.objects.get(pk=user.pk).is_active
    assert User.objects.get(pk=admin.pk).is_active
    assert AuditLog.objects.filter(action="user.delete", resource_id=str(user.pk)).exists()


def test_no_hard_delete_from_the_admin(staff, user):
    assert staff.get(reverse("admin:accounts_user_delete", args=[user.pk])).status_code == 403
    assert User.objects.filter(pk=user.pk).exists()


def test_add_and_change_users_through_the_services(staff, admin):
    add = staff.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "Staff.Made@Example.com",
            "role": "superuser",
            "password1": "admin-made-password-1",
            "password2": "admin-made-password-1",
        },
    )
    assert add.status_code == 302, add.content.decode()[:2000]
    made = User.objects.get(username="staff.made@example.com")
    assert made.role == "superuser" and made.check_password("admin-made-password-1")
    weak = staff.post(
        reverse("admin:accounts_user_add"),
        {"username": "weak@example.com", "role": "normal", "password1": "short", "password2": "short"},
    )
    assert weak.status_code == 200 and not User.objects.filter(username="weak@example.com").exists()
    change = staff.post(
        reverse("admin:accounts_user_change", args=[made.pk]),
        {"username": made.username, "role": "normal", "is_active": "on", "must_change_password": "on"},
    )
    assert change.status_code == 302
    made.refresh_from_db()
    assert made.role == "normal" and made.must_change_password
    actions = list(AuditLog.objects.filter(resource_id=str(made.pk)).values_list("action", flat=True))
    assert sorted(actions) == ["user.create", "user.update"]


def test_own_role_and_active_flag_are_read_only_in_the_admin(staff, admin):
    page = staff.get(reverse("admin:accounts_user_change", args=[admin.pk])).content.decode()
    assert 'name="role"' not in page and 'name="is_active"' not in page
    staff.post(reverse("admin:accounts_user_change", args=[admin.pk]), {"username": admin.username, "role": "normal"})
    admin.refresh_from_db()
    assert admin.role == "admin"


def test_audit_log_admin_is_read_only(staff):
    row = audit_record(action="test.row")
    assert staff.get(reverse("admin:accounts_auditlog_changelist")).status_code == 200
    change_url = reverse("admin:accounts_auditlog_change", args=[row.pk])
    assert staff.get(change_url).status_code == 200  # view only
    assert staff.post(change_url, {"action": "forged"}).status_code == 403
    assert staff.get(reverse("admin:accounts_auditlog_add")).status_code == 403
    assert staff.post(reverse("admin:accounts_auditlog_delete", args=[row.pk]), {"post": "yes"}).status_code == 403
    row.refresh_from_db()
    assert row.action == "test.row"


def test_admin_login_shares_the_lockout(admin):
    client = Client()
    url = reverse("admin:login")
    for attempt in range(5):
        client.post(url, {"username": admin.username, "password": f"wrong-{attempt}"})
    assert lockout.locked_for(admin.username) > 0
    client.post(url, {"username": admin.username, "password": DEFAULT_PASSWORD})
    assert client.get(CHANGELIST).status_code == 302  # still not logged in
    lockout.unlock(admin.username)
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):  # past the 5/minute login rate window
        client.post(url, {"username": admin.username, "password": DEFAULT_PASSWORD})
        assert client.get(CHANGELIST).status_code == 200
    reasons = [row.details["reason"] for row in AuditLog.objects.filter(action="auth.login_failed").order_by("id")]
    assert reasons == ["invalid_credentials"] * 5 + ["account_locked"]


def test_admin_login_shares_the_login_rate_limit_per_ip(admin):
    # The API login allows 5 attempts a minute per address (contract §3); the admin login is the other door to
    # the same passwords, so spraying guesses across many usernames from one address is stopped there too.
    url = reverse("admin:login")
    sprayer = Client(REMOTE_ADDR="10.8.8.8")
    for attempt in range(5):
        sprayer.post(url, {"username": f"guess{attempt}@example.com", "password": "Winter2026!"})
    sprayer.post(url, {"username": admin.username, "password": DEFAULT_PASSWORD})
    assert sprayer.get(CHANGELIST).status_code == 302  # not logged in, even with the right password
    last = AuditLog.objects.filter(action="auth.login_failed").latest("id")
    assert last.details["reason"] == "rate_limited" and last.ip_address == "10.8.8.8"
    assert lockout.locked_for(admin.username) == 0  # a refused attempt is not a failed password

    elsewhere = Client(REMOTE_ADDR="10.8.8.9")
    elsewhere.post(url, {"username": admin.username, "password": DEFAULT_PASSWORD})
    assert elsewhere.get(CHANGELIST).status_code == 200


def test_must_change_password_keeps_an_admin_out_of_the_admin_site(admin):
    """Contract §4: refused everywhere but the auth endpoints until the password is changed."""
    admin.must_change_password = True
    admin.save(update_fields=["must_change_password"])
    client = Client()
    client.force_login(admin)
    response = client.get(CHANGELIST)
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]
    page = client.get(reverse("admin:login")).content.decode()
    assert "auth/change-password" in page
    admin.must_change_password = False
    admin.save(update_fields=["must_change_password"])
    assert client.get(CHANGELIST).status_code == 200


@pytest.fixture
def tokens(user):
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
    from rest_framework_simplejwt.tokens import RefreshToken

    RefreshToken.for_user(user).blacklist()
    return OutstandingToken.objects.get(), BlacklistedToken.objects.get()


@pytest.mark.parametrize("model", ["outstandingtoken", "blacklistedtoken"])
def test_token_tables_are_read_only(staff, tokens, model):
    """Issued and revoked refresh tokens are records: listed and read, never added, changed or deleted."""
    row = tokens[0] if model == "outstandingtoken" else tokens[1]
    changelist = reverse(f"admin:token_blacklist_{model}_changelist")
    listing = staff.get(changelist)
    assert listing.status_code == 200
    assert reverse(f"admin:token_blacklist_{model}_add") not in listing.content.decode()
    assert staff.get(reverse(f"admin:token_blacklist_{model}_add")).status_code == 403
    change = reverse(f"admin:token_blacklist_{model}_change", args=[row.pk])
    assert staff.get(change).status_code == 200
    assert staff.post(change, {}).status_code == 403
    delete = reverse(f"admin:token_blacklist_{model}_delete", args=[row.pk])
    assert staff.post(delete, {"post": "yes"}).status_code == 403


def test_the_outstanding_token_page_never_shows_the_refresh_token(staff, tokens):
    outstanding = tokens[0]
    page = staff.get(reverse("admin:token_blacklist_outstandingtoken_change", args=[outstanding.pk])).content.decode()
    assert outstanding.jti in page
    assert outstanding.token not in page and outstanding.token.split(".")[2] not in page


def test_admin_index_offers_no_add_for_tokens(staff, tokens):
    page = staff.get(reverse("admin:index")).content.decode()
    assert reverse("admin:token_blacklist_blacklistedtoken_add") not in page
    assert reverse("admin:token_blacklist_outstandingtoken_add") not in page


def test_user_list_cuts_long_emails_with_the_whole_in_the_title(staff):
    long_name = "a.rather.long.first.name.lastname@subsidiary.example-company.com"
    UserFactory(username=long_name)
    page = staff.get(CHANGELIST).content.decode()
    assert f'title="{long_name}"' in page
    assert f">{long_name}<" not in page


def test_audit_list_cuts_long_values_with_the_whole_in_the_title(staff):
    row = audit_record(action="test.row", resource="integration_client", resource_id="c" * 64)
    AuditLog.objects.filter(pk=row.pk).update(username="someone.with.a.long.address@subsidiary.example.com")
    page = staff.get(reverse("admin:accounts_auditlog_changelist")).content.decode()
    for whole in ("c" * 64, "someone.with.a.long.address@subsidiary.example.com"):
        assert f'title="{whole}"' in page and f">{whole}<" not in page
