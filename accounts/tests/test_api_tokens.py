"""Refresh rotation, logout, password change and the token checks of JWTAuthentication."""

import base64
import json
import time

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory, client_principal_stand_in
from accounts.tests.helpers import (
    CHANGE_PASSWORD_URL,
    LOGOUT_URL,
    ME_URL,
    REFRESH_URL,
    all_audit_text,
    audit_rows,
    bearer,
    login,
    user_url,
)

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-brand-new-passphrase-42"


def tokens_for(user, **extra) -> dict:
    return login(APIClient(), user.username, DEFAULT_PASSWORD, **extra).json()["data"]


def me_status(access_token: str) -> int:
    return bearer(APIClient(), access_token).get(ME_URL).status_code


def refresh(refresh_token: str):
    return APIClient().post(REFRESH_URL, {"refresh_token": refresh_token}, format="json")


def test_refresh_rotates_and_the_old_refresh_token_is_refused(user):
    first = tokens_for(user)
    rotated = refresh(first["refresh_token"])
    assert rotated.status_code == 200
    data = rotated.json()["data"]
    assert set(data) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert data["refresh_token"] != first["refresh_token"]
    assert me_status(data["access_token"]) == 200
    reused = refresh(first["refresh_token"])
    assert reused.status_code == 401 and reused.json()["error"]["code"] == "AUTHENTICATION_FAILED"
    assert refresh(data["refresh_token"]).status_code == 200
    [failure] = audit_rows("auth.refresh_failed")
    assert failure.user_id == str(user.pk) and failure.details == {"reason": "reused_or_unknown"}


def test_remember_me_survives_rotation(user):
    from rest_framework_simplejwt.state import token_backend

    data = refresh(tokens_for(user, remember_me=True)["refresh_token"]).json()["data"]
    payload = token_backend.decode(data["refresh_token"])
    assert payload["exp"] - payload["iat"] == 30 * 24 * 3600


@pytest.mark.parametrize("body", [{}, {"refresh_token": ""}, {"refresh_token": "garbage"}])
def test_bad_refresh_bodies(body):
    response = APIClient().post(REFRESH_URL, body, format="json")
    assert response.status_code in (401, 422)
    assert response.json()["success"] is False


def test_an_access_token_is_not_a_refresh_token(user):
    assert refresh(tokens_for(user)["access_token"]).status_code == 401


def test_logout_revokes_both_tokens(user):
    data = tokens_for(user)
    client = bearer(APIClient(), data["access_token"])
    response = client.post(LOGOUT_URL, {"refresh_token": data["refresh_token"]}, format="json")
    assert response.status_code == 200 and response.json()["data"] == {"refresh_revoked": True}
    assert me_status(data["access_token"]) == 401
    assert refresh(data["refresh_token"]).status_code == 401
    [row] = audit_rows("auth.logout")
    assert row.user_id == str(user.pk) and row.details == {"refresh_revoked": True}


def test_logout_without_refresh_token_revokes_the_access_token(user):
    data = tokens_for(user)
    assert bearer(APIClient(), data["access_token"]).post(LOGOUT_URL).status_code == 200
    assert me_status(data["access_token"]) == 401
    assert refresh(data["refresh_token"]).status_code == 200  # that one was not given


def test_logout_refuses_someone_elses_refresh_token(user):
    other = tokens_for(UserFactory())
    mine = tokens_for(user)
    response = bearer(APIClient(), mine["access_token"]).post(
        LOGOUT_URL, {"refresh_token": other["refresh_token"]}, format="json"
    )
    assert response.status_code == 422
    assert "refresh_token" in response.json()["error"]["details"]
    assert me_status(mine["access_token"]) == 200
    assert refresh(other["refresh_token"]).status_code == 200


def test_logout_needs_authentication():
    assert APIClient().post(LOGOUT_URL).status_code == 401


def _forge(payload: dict, key: str, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, key, algorithm=algorithm)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_tampered_foreign_key_alg_none_and_bad_claims_are_refused(user, admin):
    access = tokens_for(user)["access_token"]
    header, payload, signature = access.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))

    tampered = ".".join([header, _b64({**claims, "user_id": str(admin.pk)}), signature])
    foreign = _forge(claims, "another-signing-key-that-is-long-enough-123")
    alg_none = ".".join([_b64({"alg": "none", "typ": "JWT"}), _b64(claims), ""])
    key = settings.SIMPLE_JWT["SIGNING_KEY"]
    wrong_aud = _forge({**claims, "aud": "someone-else"}, key)
    wrong_iss = _forge({**claims, "iss": "someone-else"}, key)
    expired = _forge({**claims, "exp": int(time.time()) - 10}, key)
    hs512 = _forge(claims, key, algorithm="HS512")
    genuine_copy = _forge(claims, key)

    for token in (tampered, foreign, alg_none, wrong_aud, wrong_iss, expired, hs512, "not.a.jwt"):
        response = bearer(APIClient(), token).get(ME_URL)
        assert response.status_code == 401, token
        assert response.json()["error"] == {
            "code": "AUTHENTICATION_FAILED",
            "message": "Invalid or expired token",
            "details": None,
        }
    assert me_status(genuine_copy) == 200  # the forging helper itself is sound


def test_deleted_users_tokens_stop_working_at_once(user, admin, api_client_for):
    data = tokens_for(user, remember_me=True)
    assert api_client_for(admin).delete(user_url(user)).status_code == 200
    assert me_status(data["access_token"]) == 401
    assert refresh(data["refresh_token"]).status_code == 401
    [row] = audit_rows("user.delete")
    assert row.details["refresh_revoked"] == 1


def test_change_password_revokes_old_tokens_and_returns_new_ones(user):
    old = tokens_for(user)
    client = bearer(APIClient(), old["access_token"])
    response = client.post(
        CHANGE_PASSWORD_URL, {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 200
    new = response.json()["data"]
    assert me_status(old["access_token"]) == 401
    assert refresh(old["refresh_token"]).status_code == 401
    assert me_status(new["access_token"]) == 200
    assert login(APIClient(), user.username, NEW_PASSWORD).status_code == 200
    assert login(APIClient(), user.username, DEFAULT_PASSWORD).status_code == 401
    assert audit_rows("auth.password_changed")[0].user_id == str(user.pk)


def test_tokens_issued_before_a_password_change_elsewhere_are_refused(user):
    stolen = tokens_for(user)
    mine = tokens_for(user)
    bearer(APIClient(), mine["access_token"]).post(
        CHANGE_PASSWORD_URL, {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert me_status(stolen["access_token"]) == 401
    assert refresh(stolen["refresh_token"]).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"current_password": "wrong-current-pass", "new_password": NEW_PASSWORD}, "current_password"),
        ({"current_password": DEFAULT_PASSWORD, "new_password": "short1"}, "new_password"),
        ({"current_password": DEFAULT_PASSWORD, "new_password": "123456789012345"}, "new_password"),
        ({"current_password": DEFAULT_PASSWORD, "new_password": DEFAULT_PASSWORD}, "new_password"),
        ({"current_password": DEFAULT_PASSWORD}, "new_password"),
    ],
)
def test_change_password_policy(user, api_client_for, body, field):
    response = api_client_for(user).post(CHANGE_PASSWORD_URL, body, format="json")
    assert response.status_code == 422
    assert field in response.json()["error"]["details"]
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_must_change_password_gate(api_client):
    user = UserFactory(must_change_password=True)
    data = login(api_client, user.username, DEFAULT_PASSWORD).json()["data"]
    assert data["user"]["must_change_password"] is True
    client = bearer(APIClient(), data["access_token"])
    blocked = client.get(user_url(user))
    assert blocked.status_code == 403 and blocked.json()["error"]["code"] == "PASSWORD_CHANGE_REQUIRED"
    assert client.get(ME_URL).status_code == 200
    assert refresh(data["refresh_token"]).status_code == 200
    changed = client.post(
        CHANGE_PASSWORD_URL, {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["data"]["user"]["must_change_password"] is False
    client = bearer(APIClient(), changed.json()["data"]["access_token"])
    assert client.get(user_url(user)).status_code == 200
    assert not User.objects.get(pk=user.pk).must_change_password


def _client_principal():
    return client_principal_stand_in(client_id="cli_123", name="Reporting bot", permissions=("use_chat", "read_config"))


def test_integration_clients_cannot_change_password_or_log_out():
    client = APIClient()
    client.force_authenticate(user=_client_principal())
    for url, body in ((CHANGE_PASSWORD_URL, {"current_password": "x", "new_password": "y"}), (LOGOUT_URL, {})):
        response = client.post(url, body, format="json")
        assert response.status_code == 403 and response.json()["error"]["code"] == "PERMISSION_DENIED"
    me = client.get(ME_URL).json()["data"]
    assert me == {
        "principal_type": "integration_client",
        "client_id": "cli_123",
        "client_name": "Reporting bot",
        "role": "integration",
        "roles": ["integration"],
        "permissions": ["read_config", "use_chat"],
        "must_change_password": False,
    }
    # Not a user: the users resource is refused as a whole (403), not hidden object by object (404).
    refused = client.get(user_url(UserFactory()))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "PERMISSION_DENIED"


def test_no_password_or_token_reaches_an_audit_row_or_a_log_line(api_client, admin, api_client_for, caplog):
    caplog.set_level("DEBUG")
    user = UserFactory()
    data = tokens_for(user)
    login(api_client, user.username, "a-wrong-password-xyz")
    login(api_client, "ghost@example.com", "ghost-password-xyz")
    bearer(APIClient(), data["access_token"]).post(
        CHANGE_PASSWORD_URL, {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    created = api_client_for(admin).post(
        "/api/v1/users", {"username": "new@example.com", "password": "created-user-password-1"}, format="json"
    )
    reset = api_client_for(admin).post(user_url(created.json()["data"]["user_id"], "reset-password"))
    temporary = reset.json()["data"]["temporary_password"]
    refresh(data["refresh_token"])
    secrets = [
        DEFAULT_PASSWORD,
        "a-wrong-password-xyz",
        "ghost-password-xyz",
        NEW_PASSWORD,
        "created-user-password-1",
        temporary,
        data["access_token"],
        data["refresh_token"],
    ]
    audit_text = all_audit_text()
    assert len(audit_rows()) >= 7
    for secret in secrets:
        assert secret not in audit_text
        assert secret not in caplog.text


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer \u00e9t\u00e9"])
def test_malformed_authorization_headers_are_a_clean_401(header):
    response = APIClient().get(ME_URL, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "AUTHENTICATION_FAILED" and "{" not in error["message"]
