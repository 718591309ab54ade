"""The accounts app while the shared cache fails (in process: cache methods made to raise as django-redis does).

A 503 means nothing was done; a change that is committed is answered as done whatever the cache does after
the commit; a login refused because the cache is down is audited. The same faults with a real redis-server
killed are in ``test_redis_faults.py``.
"""

import pytest
from django.core.cache import cache
from django_redis.exceptions import ConnectionInterrupted
from rest_framework.test import APIClient

from accounts import lockout
from accounts.models import User
from accounts.selectors import user_lock_states
from accounts.tests.factories import DEFAULT_PASSWORD
from accounts.tests.helpers import LOGOUT_URL, USERS_URL, audit_rows, bearer, login, user_url

pytestmark = pytest.mark.django_db

NEW_USER = {"username": "after-commit@example.com", "password": "Another-secret-2024!", "role": "normal"}


def _fail(monkeypatch, *methods: str) -> None:
    def down(*args, **kwargs):
        raise ConnectionInterrupted(connection=None)

    for method in methods:
        monkeypatch.setattr(cache, method, down)


def test_lock_states_are_unknown_and_shown_unlocked_while_the_cache_is_down(monkeypatch, user):
    lockout.register_failure(user.username)
    _fail(monkeypatch, "get_many")
    assert user_lock_states(users=[user]) == set()


def test_a_created_user_is_answered_201_when_the_lock_state_cannot_be_read(monkeypatch, admin, api_client_for):
    client = api_client_for(admin)
    _fail(monkeypatch, "get_many")  # only the lock-state read after the commit uses it
    response = client.post(USERS_URL, NEW_USER, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["data"]["locked"] is False
    assert User.objects.filter(username=NEW_USER["username"]).exists()
    assert len(audit_rows("user.create")) == 1


def test_a_created_user_is_answered_201_when_its_idempotency_outcome_cannot_be_stored(
    monkeypatch, admin, api_client_for
):
    client = api_client_for(admin)
    _fail(monkeypatch, "set")  # the key is claimed with add; the outcome would be stored with set
    response = client.post(USERS_URL, NEW_USER, format="json", HTTP_IDEMPOTENCY_KEY="after-commit-1")
    assert response.status_code == 201, response.content
    assert User.objects.filter(username=NEW_USER["username"]).exists()


def test_a_refused_request_is_answered_as_refused_when_its_key_cannot_be_released(monkeypatch, admin, api_client_for):
    client = api_client_for(admin)
    _fail(monkeypatch, "delete")
    response = client.post(USERS_URL, {"username": "not-an-email"}, format="json", HTTP_IDEMPOTENCY_KEY="refused-1")
    assert response.status_code == 422, response.content


def test_a_login_the_cache_cannot_check_is_refused_503_and_audited(monkeypatch, user):
    _fail(monkeypatch, "get")  # the lockout read
    response = login(APIClient(), user.username, DEFAULT_PASSWORD)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert int(response["Retry-After"]) > 0
    [row] = audit_rows("auth.login_failed")
    assert row.username == user.username and not row.success and row.request_id
    assert row.details == {"reason": "service_unavailable", "step": "lockout_check"}
    assert audit_rows("auth.login") == []
    user.refresh_from_db()
    assert user.last_login is None


def test_a_failed_login_the_cache_cannot_count_is_refused_503_and_audited(monkeypatch, user):
    _fail(monkeypatch, "incr")  # the lockout counts a second failure with incr
    lockout.register_failure(user.username)
    response = login(APIClient(), user.username, "wrong-password-123")
    assert response.status_code == 503
    [row] = audit_rows("auth.login_failed")
    assert row.user_id == str(user.pk)
    assert row.details == {"reason": "service_unavailable", "step": "failure_count"}


def test_logout_is_done_when_the_access_token_cannot_be_denied(monkeypatch, user, api_client_for):
    tokens = login(APIClient(), user.username, DEFAULT_PASSWORD).json()["data"]
    client = bearer(APIClient(), tokens["access_token"])
    _fail(monkeypatch, "set")  # the deny-list entry is written after the commit
    response = client.post(LOGOUT_URL, {"refresh_token": tokens["refresh_token"]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["data"] == {"refresh_revoked": True}
    assert len(audit_rows("auth.logout")) == 1


def test_a_password_reset_is_done_when_the_lockout_cannot_be_lifted(monkeypatch, admin, user, api_client_for):
    client = api_client_for(admin)
    _fail(monkeypatch, "delete_many")  # the lockout is lifted after the commit
    response = client.post(user_url(user, "reset-password"))
    assert response.status_code == 200, response.content
    temporary = response.json()["data"]["temporary_password"]
    user.refresh_from_db()
    assert user.check_password(temporary) and user.must_change_password
    assert len(audit_rows("user.reset_password")) == 1


def test_an_admin_site_login_the_cache_cannot_check_is_refused_and_audited(monkeypatch, admin):
    from django.test import Client

    _fail(monkeypatch, "get")
    response = Client().post("/admin/login/", {"username": admin.username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200  # the login form again, not a 500
    assert "_auth_user_id" not in response.wsgi_request.session
    [row] = audit_rows("auth.login_failed")
    assert row.details["reason"] == "service_unavailable" and row.details["via"] == "admin"
