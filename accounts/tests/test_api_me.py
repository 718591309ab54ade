"""Every payload describing a user names its id ``user_id`` (contract §5 "User fields"): ``auth/me``, the login
response's ``user`` block and the users resource agree. ``id`` stays beside it in the login block, where the
contract lists it, and in ``auth/me``, which describes the same caller."""

import pytest

from accounts.tests.factories import DEFAULT_PASSWORD
from accounts.tests.helpers import ME_URL, bearer, login, user_url

pytestmark = pytest.mark.django_db


def test_me_login_and_the_users_resource_name_the_id_user_id(api_client, api_client_for, user):
    logged_in = login(api_client, user.username, DEFAULT_PASSWORD).json()["data"]
    me = bearer(api_client, logged_in["access_token"]).get(ME_URL).json()["data"]
    resource = api_client_for(user).get(user_url(user)).json()["data"]
    assert me["user_id"] == logged_in["user"]["user_id"] == resource["user_id"] == str(user.pk)
    assert me["id"] == logged_in["user"]["id"] == str(user.pk)
    shared = {"user_id", "username", "role", "active", "must_change_password", "created_at", "last_login"}
    assert {name: me[name] for name in shared} == {name: resource[name] for name in shared}


def test_the_schema_documents_user_id_on_me_and_login(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    components = schema["components"]["schemas"]
    for name in ("MeUserOutput", "TokenUserOutput", "UserOutput"):
        assert components[name]["properties"]["user_id"]["format"] == "uuid", name
        assert "user_id" in components[name]["required"], name
