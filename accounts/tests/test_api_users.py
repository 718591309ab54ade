"""The users API: lists and filters, create, update rules, soft delete, reset-password, unlock."""

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.helpers import ME_URL, USERS_URL, audit_rows, bearer, login, user_url

pytestmark = pytest.mark.django_db
USER_FIELDS = {
    "user_id",
    "username",
    "role",
    "active",
    "must_change_password",
    "created_at",
    "updated_at",
    "last_login",
    "locked",
}


def usernames(response) -> list[str]:
    return [item["username"] for item in response.json()["data"]["users"]]


def test_list_shape_filters_and_ordering(admin, api_client_for):
    UserFactory(username="b-normal@example.com")
    UserFactory(username="a-super@example.com", role="superuser")
    UserFactory(username="c-gone@example.com", is_active=False)
    client = api_client_for(admin)
    response = client.get(USERS_URL, {"per_page": 2})
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["total"] == 4 and data["page"] == 1 and data["per_page"] == 2 and data["has_next"] is True
    assert set(data["users"][0]) == USER_FIELDS
    assert response["X-RateLimit-Limit"] == "100"
    assert usernames(client.get(USERS_URL, {"role": "superuser"})) == ["a-super@example.com"]
    assert usernames(client.get(USERS_URL, {"active": "false"})) == ["c-gone@example.com"]
    assert usernames(client.get(USERS_URL, {"search": "NORMAL"})) == ["b-normal@example.com"]
    ordered = usernames(client.get(USERS_URL, {"ordering": "-username"}))
    assert ordered == sorted(ordered, reverse=True)


@pytest.mark.parametrize(
    "params",
    [{"role": "root"}, {"active": "maybe"}, {"ordering": "password"}, {"page": "0"}, {"per_page": "500"}],
)
def test_bad_list_parameters_are_422(admin, api_client_for, params):
    response = api_client_for(admin).get(USERS_URL, params)
    assert response.status_code == 422
    assert set(response.json()["error"]["details"]) == set(params)


@pytest.mark.parametrize("page", ["9223372036854775807", "99999999999999999999"])
def test_a_page_far_past_the_end_is_an_empty_page_not_a_500(admin, api_client_for, page):
    # An offset past what the database can count (bigint) used to reach the query and fail there.
    response = api_client_for(admin).get(USERS_URL, {"page": page})
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["users"] == [] and data["total"] == 1 and data["has_next"] is False


def test_list_query_count_does_not_grow_with_users(admin, api_client_for, django_assert_max_num_queries):
    UserFactory.create_batch(15)
    client = api_client_for(admin)
    with django_assert_max_num_queries(4):
        assert len(usernames(client.get(USERS_URL))) == 16


def test_superuser_sees_normal_users_and_themselves(superuser, api_client_for):
    normal = UserFactory()
    UserFactory(role="admin")
    UserFactory(role="superuser")
    assert sorted(usernames(api_client_for(superuser).get(USERS_URL))) == sorted([normal.username, superuser.username])


def test_create_user(admin, api_client_for):
    response = api_client_for(admin).post(
        USERS_URL, {"username": "New.Person@Example.com", "password": "long-enough-password-1"}, format="json"
    )
    assert response.status_code == 201
    assert response["X-RateLimit-Limit"] == "50"
    data = response.json()["data"]
    assert data["username"] == "new.person@example.com"
    assert data["role"] == "normal" and data["must_change_password"] is True and data["active"] is True
    assert User.objects.get(pk=data["user_id"]).check_password("long-enough-password-1")
    [row] = audit_rows("user.create")
    assert row.user_id == str(admin.pk) and row.resource_id == data["user_id"]


def test_duplicate_username_is_409(admin, user, api_client_for):
    response = api_client_for(admin).post(
        USERS_URL, {"username": user.username.upper(), "password": "long-enough-password-1"}, format="json"
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "CONFLICT"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "not-an-email", "password": "long-enough-password-1"}, "username"),
        ({"username": "ok@example.com", "password": "short"}, "password"),
        ({"username": "ok@example.com", "password": "987654321098765"}, "password"),
        ({"username": "ok@example.com", "password": "long-enough-password-1", "role": "god"}, "role"),
    ],
)
def test_create_validation(admin, api_client_for, body, field):
    response = api_client_for(admin).post(USERS_URL, body, format="json")
    assert response.status_code == 422
    assert field in response.json()["error"]["details"]


def test_superuser_creates_normal_users_only(superuser, api_client_for):
    client = api_client_for(superuser)
    body = {"username": "boss@example.com", "password": "long-enough-password-1", "role": "admin"}
    refused = client.post(USERS_URL, body, format="json")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "PERMISSION_DENIED"
    assert not User.objects.filter(username="boss@example.com").exists()
    [denied] = audit_rows("permission.denied")
    assert denied.user_id == str(superuser.pk) and not denied.success
    assert client.post(USERS_URL, {**body, "role": "normal"}, format="json").status_code == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"role": "admin"}, "role"),
        ({"active": False}, "active"),
        ({"must_change_password": True}, "must_change_password"),
    ],
)
def test_nobody_changes_their_own_role_or_active_flag(user, api_client_for, change, field):
    response = api_client_for(user).patch(user_url(user), change, format="json")
    assert response.status_code == 403
    user.refresh_from_db()
    assert user.role == "normal" and user.is_active and not user.must_change_password
    assert audit_rows("permission.denied")[0].details == {"operation": "user.update"}


def test_unchanged_values_and_own_username_are_allowed(user, api_client_for):
    client = api_client_for(user)
    same = client.patch(user_url(user), {"role": "normal", "active": True}, format="json")
    assert same.status_code == 200
    renamed = client.patch(user_url(user), {"username": "Renamed@Example.com"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["data"]["username"] == "renamed@example.com"
    [row] = audit_rows("user.update")
    assert row.details["changes"]["username"]["new"] == "renamed@example.com"


def test_admin_cannot_demote_or_deactivate_themselves(admin, api_client_for):
    client = api_client_for(admin)
    assert client.patch(user_url(admin), {"role": "normal"}, format="json").status_code == 403
    assert client.delete(user_url(admin)).status_code == 403
    admin.refresh_from_db()
    assert admin.role == "admin" and admin.is_active


def test_update_refuses_unknown_fields_and_put_needs_every_field(admin, user, api_client_for):
    client = api_client_for(admin)
    sneaky = client.patch(user_url(user), {"password": "a-new-password-123"}, format="json")
    assert sneaky.status_code == 422 and "password" in sneaky.json()["error"]["details"]
    partial_put = client.put(user_url(user), {"role": "superuser"}, format="json")
    assert partial_put.status_code == 422
    current = client.get(user_url(user)).json()["data"]
    full_put = client.put(user_url(user), {**current, "role": "superuser"}, format="json")
    assert full_put.status_code == 200 and full_put.json()["data"]["role"] == "superuser"


def test_username_clash_on_update_is_409(admin, user, api_client_for):
    other = UserFactory()
    response = api_client_for(admin).patch(user_url(user), {"username": other.username}, format="json")
    assert response.status_code == 409


def test_superuser_may_not_promote_or_deactivate(superuser, user, api_client_for):
    client = api_client_for(superuser)
    assert client.patch(user_url(user), {"role": "superuser"}, format="json").status_code == 403
    assert client.patch(user_url(user), {"active": False}, format="json").status_code == 403
    user.refresh_from_db()
    assert user.role == "normal" and user.is_active
    assert client.patch(user_url(user), {"must_change_password": True}, format="json").status_code == 200


def test_deactivating_revokes_tokens_and_reactivating_works(admin, api_client_for):
    user = UserFactory()
    token = login(APIClient(), user.username, DEFAULT_PASSWORD).json()["data"]["access_token"]
    client = api_client_for(admin)
    assert client.patch(user_url(user), {"active": False}, format="json").status_code == 200
    assert bearer(APIClient(), token).get(ME_URL).status_code == 401
    assert client.patch(user_url(user), {"active": True}, format="json").status_code == 200
    assert login(APIClient(), user.username, DEFAULT_PASSWORD).status_code == 200


def test_soft_delete_keeps_the_row_and_the_audit(admin, user, api_client_for):
    client = api_client_for(admin)
    response = client.delete(user_url(user))
    assert response.status_code == 200 and response.json()["data"] is None
    assert response["X-RateLimit-Limit"] == "20"
    row = client.get(user_url(user)).json()["data"]
    assert row["active"] is False
    assert audit_rows("user.delete")[0].resource_id == str(user.pk)
    assert client.delete(user_url("00000000-0000-0000-0000-000000000000")).status_code == 404


def test_reset_password_gives_a_one_time_temporary_password(admin, user, api_client_for):
    old_token = login(APIClient(), user.username, DEFAULT_PASSWORD).json()["data"]["access_token"]
    client = api_client_for(admin)
    response = client.post(user_url(user, "reset-password"), HTTP_IDEMPOTENCY_KEY="reset-1")
    assert response.status_code == 200
    temporary = response.json()["data"]["temporary_password"]
    assert len(temporary) >= 12
    assert bearer(APIClient(), old_token).get(ME_URL).status_code == 401
    logged_in = login(APIClient(), user.username, temporary).json()["data"]
    assert logged_in["user"]["must_change_password"] is True
    replay = client.post(user_url(user, "reset-password"), HTTP_IDEMPOTENCY_KEY="reset-1")
    assert replay["Idempotent-Replayed"] == "true" and replay.json()["data"]["temporary_password"] is None
    assert client.post(user_url(admin, "reset-password")).status_code == 403
    [row] = audit_rows("user.reset_password")
    assert temporary not in str(row.details)


def test_a_user_without_conversations_gets_an_empty_page(user, api_client_for):
    response = api_client_for(user).get(user_url(user, "conversations"))
    assert response.status_code == 200
    assert response.json()["data"] == {"conversations": [], "total": 0, "page": 1, "per_page": 20, "has_next": False}


@pytest.mark.parametrize("user_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000", "1;drop"])
def test_unknown_or_malformed_user_id_is_404(admin, api_client_for, user_id):
    response = api_client_for(admin).get(f"/api/v1/users/{user_id}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "RESOURCE_NOT_FOUND"


def test_routes_answer_with_and_without_trailing_slash(admin, api_client_for):
    client = api_client_for(admin)
    assert client.get("/api/v1/users").status_code == 200
    assert client.get("/api/v1/users/").status_code == 200
    assert client.get("/api/v1/auth/me/").status_code == 200
