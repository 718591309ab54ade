"""POST auth/login: response shape, lockout, rate limits, no user enumeration, audit."""

import time
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework_simplejwt.state import token_backend

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.helpers import ME_URL, audit_rows, bearer, login, user_url

pytestmark = pytest.mark.django_db


def test_login_returns_the_contract_shape(api_client, user):
    response = login(api_client, user.username, DEFAULT_PASSWORD)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["token_type"] == "bearer"
    assert data["expires_in"] == 30 * 60
    assert data["user"] == {
        "user_id": str(user.pk),
        "id": str(user.pk),
        "username": user.username,
        "role": "normal",
        "roles": ["normal"],
        "permissions": ["read_config", "use_chat", "use_tools"],
        "must_change_password": False,
    }
    me = bearer(api_client, data["access_token"]).get(ME_URL)
    assert me.status_code == 200
    assert me.json()["data"]["username"] == user.username
    user.refresh_from_db()
    assert user.last_login is not None
    assert response["X-RateLimit-Limit"] == "5"
    [row] = audit_rows("auth.login")
    assert row.user_id == str(user.pk) and row.success and row.ip_address and row.request_id


def test_login_is_case_insensitive_for_the_username(api_client, user):
    assert login(api_client, user.username.upper(), DEFAULT_PASSWORD).status_code == 200


def test_tokens_are_hs256_with_issuer_audience_and_lifetimes(api_client, user):
    data = login(api_client, user.username, DEFAULT_PASSWORD).json()["data"]
    access = token_backend.decode(data["access_token"])
    refresh = token_backend.decode(data["refresh_token"])
    assert access["iss"] == "majed-vanna" and access["aud"] == "majed-vanna-api"
    assert access["exp"] - access["iat"] == 30 * 60
    assert refresh["exp"] - refresh["iat"] == 24 * 3600
    remembered = login(api_client, user.username, DEFAULT_PASSWORD, remember_me=True).json()["data"]
    refresh = token_backend.decode(remembered["refresh_token"])
    assert refresh["exp"] - refresh["iat"] == 30 * 24 * 3600


def test_unknown_user_and_wrong_password_get_the_same_answer(api_client, user, monkeypatch):
    hashed = []
    import accounts.services.auth as auth_services

    real = auth_services.make_password
    monkeypatch.setattr(auth_services, "make_password", lambda pw: hashed.append(1) or real(pw))
    wrong = login(api_client, user.username, "not-the-password-at-all")
    unknown = login(api_client, "nobody@example.com", "not-the-password-at-all")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"] == unknown.json()["error"]
    assert wrong.json()["error"]["code"] == "AUTHENTICATION_FAILED"
    assert hashed == [1], "an unknown user still costs one password hash (timing)"
    rows = audit_rows("auth.login_failed")
    assert [r.username for r in rows] == [user.username, "nobody@example.com"]
    assert all(not r.success for r in rows)


def test_nul_bytes_in_the_user_agent_still_leave_an_audit_row(api_client, user):
    """PostgreSQL text cannot hold NUL: the failed login must still be refused (401) and audited, not a 500."""
    response = login(api_client, user.username, "wrong-password-123", headers={"HTTP_USER_AGENT": "curl\x00/8"})
    assert response.status_code == 401
    (row,) = audit_rows("auth.login_failed")
    assert row.user_agent == "curl/8"


def test_inactive_user_cannot_log_in(api_client):
    user = UserFactory(is_active=False)
    response = login(api_client, user.username, DEFAULT_PASSWORD)
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Invalid username or password"


@pytest.mark.parametrize(
    "body",
    [{}, {"username": "a@b.io"}, {"username": ["x"], "password": "y"}, {"username": "a@b.io", "password": "x" * 5000}],
)
def test_malformed_login_is_422(api_client, body):
    response = api_client.post("/api/v1/auth/login", body, format="json")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_lockout_after_exactly_five_failures_and_admin_unlock(api_client, user, admin, api_client_for):
    for attempt in range(4):
        assert login(api_client, user.username, f"wrong-password-{attempt}").status_code == 401
    fifth = login(api_client, user.username, "wrong-password-5")
    assert fifth.status_code == 429
    assert fifth.json()["error"]["code"] == "ACCOUNT_LOCKED"
    assert 890 <= int(fifth["Retry-After"]) <= 900
    right = login(api_client, user.username, DEFAULT_PASSWORD)
    assert right.status_code == 429 and right.json()["error"]["code"] == "ACCOUNT_LOCKED"
    assert int(right["Retry-After"]) > 0

    listed = api_client_for(admin).get(user_url(user)).json()["data"]
    assert listed["locked"] is True
    unlocked = api_client_for(admin).post(user_url(user, "unlock"))
    assert unlocked.status_code == 200 and unlocked.json()["data"]["locked"] is False
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):  # past the 5/minute username window
        assert login(api_client, user.username, DEFAULT_PASSWORD).status_code == 200
    [unlock_row] = audit_rows("user.unlock")
    assert unlock_row.user_id == str(admin.pk) and unlock_row.details["was_locked"] is True
    failures = audit_rows("auth.login_failed")
    assert [r.details["reason"] for r in failures] == ["invalid_credentials"] * 5 + ["account_locked"]
    assert failures[4].details["locked"] is True


def test_unknown_usernames_lock_out_the_same_way(api_client):
    answers = [login(api_client, "ghost@example.com", f"wrong-{i}") for i in range(6)]
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 429, 429]
    assert answers[5].json()["error"]["code"] == "ACCOUNT_LOCKED"


def test_lockout_ends_after_fifteen_minutes(api_client, user):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for attempt in range(5):
            login(api_client, user.username, f"wrong-{attempt}")
        assert login(api_client, user.username, DEFAULT_PASSWORD).status_code == 429
    with time_machine.travel(start + timedelta(minutes=14), tick=False):
        assert login(api_client, user.username, DEFAULT_PASSWORD).status_code == 429
    with time_machine.travel(start + timedelta(minutes=15, seconds=1), tick=False):
        assert login(api_client, user.username, DEFAULT_PASSWORD).status_code == 200


def test_a_success_resets_the_consecutive_failure_count(api_client, user):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for attempt in range(4):
            login(api_client, user.username, f"wrong-{attempt}")
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        assert login(api_client, user.username, DEFAULT_PASSWORD).status_code == 200
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        answers = [login(api_client, user.username, f"wrong-{i}").status_code for i in range(4)]
    assert answers == [401, 401, 401, 401]


def test_login_rate_limit_per_ip(api_client):
    codes = [login(api_client, f"u{i}@example.com", "whatever-password", ip="10.9.9.9") for i in range(6)]
    assert [c.status_code for c in codes] == [401] * 5 + [429]
    assert codes[5].json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert int(codes[5]["Retry-After"]) >= 1
    assert codes[4]["X-RateLimit-Remaining"] == "0"


def test_x_forwarded_for_is_ignored_without_trusted_proxies(api_client, settings):
    settings.TRUSTED_PROXY_COUNT = 0  # the default: the socket peer is the client (contract §3)
    codes = [
        login(
            api_client,
            f"u{i}@example.com",
            "whatever-password",
            ip="10.9.9.8",
            headers={"HTTP_X_FORWARDED_FOR": f"198.51.100.{i}"},
        )
        for i in range(6)
    ]
    assert [c.status_code for c in codes] == [401] * 5 + [429]
    assert {row.ip_address for row in audit_rows("auth.login_failed")} == {"10.9.9.8"}


@pytest.mark.parametrize(
    "forwarded", ["not-an-ip", "203.0.113.9:51234", "[2001:db8::1]", "fe80::1%eth0", "203.0.113.9\t<script>"]
)
def test_a_forwarded_entry_that_is_not_an_ip_address_is_not_the_client_ip(api_client, settings, forwarded):
    # Audit rows store the address in an inet column on PostgreSQL: a non-address there made every audited
    # request (login included) a 500, and the rate limits counted whatever string the header carried.
    settings.TRUSTED_PROXY_COUNT = 1
    response = login(
        api_client,
        "someone@example.com",
        "whatever-password",
        ip="10.9.9.7",
        headers={"HTTP_X_FORWARDED_FOR": forwarded},
    )
    assert response.status_code == 401
    assert audit_rows("auth.login_failed")[-1].ip_address == "10.9.9.7"


def test_login_rate_limit_per_username(api_client, user):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            assert login(api_client, user.username, DEFAULT_PASSWORD).status_code == 200
        sixth = login(api_client, user.username, DEFAULT_PASSWORD)
    assert sixth.status_code == 429 and sixth.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert audit_rows("auth.login_failed")[-1].details["reason"] == "rate_limited"


def test_deleted_user_cannot_log_in(api_client, user, admin, api_client_for):
    assert api_client_for(admin).delete(user_url(user)).status_code == 200
    assert not User.objects.get(pk=user.pk).is_active
    assert login(api_client, user.username, DEFAULT_PASSWORD).status_code == 401


def test_every_throttled_login_answer_carries_rate_limit_headers(api_client, user):
    """The answer that locks says 0 remaining (never 1), the locked answers and the per-IP 429 carry the
    X-RateLimit-* headers too, with the reset at the end of the lock (contract §3)."""
    answers = [login(api_client, user.username, f"wrong-{i}", ip="10.7.7.7") for i in range(5)]
    locking = answers[4]
    assert locking.json()["error"]["code"] == "ACCOUNT_LOCKED"
    assert locking["X-RateLimit-Limit"] == "5" and locking["X-RateLimit-Remaining"] == "0"
    assert int(locking["X-RateLimit-Reset"]) >= int(time.time()) + 890
    locked = login(api_client, user.username, DEFAULT_PASSWORD, ip="10.7.7.8")
    assert locked.json()["error"]["code"] == "ACCOUNT_LOCKED"
    assert locked["X-RateLimit-Remaining"] == "0" and int(locked["X-RateLimit-Reset"]) > int(time.time())
    per_ip = [login(api_client, f"other{i}@example.com", "whatever-password", ip="10.7.7.9") for i in range(6)][-1]
    assert per_ip.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert per_ip["X-RateLimit-Remaining"] == "0" and "X-RateLimit-Reset" in per_ip and "Retry-After" in per_ip


def test_the_locking_answer_says_nothing_remains_even_when_failures_spread_over_minutes(api_client, user):
    start = timezone.now()
    for attempt in range(5):
        with time_machine.travel(start + timedelta(minutes=2 * attempt), tick=False):
            answer = login(api_client, user.username, f"wrong-{attempt}")
    assert answer.json()["error"]["code"] == "ACCOUNT_LOCKED"
    assert answer["X-RateLimit-Remaining"] == "0"
