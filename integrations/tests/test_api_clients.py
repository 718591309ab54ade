"""``integrations/clients`` endpoints (contract §5): admin only, secrets shown once, every change audited."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditLog
from accounts.tests.factories import UserFactory
from integrations.crypto import decrypt_secret, hash_api_key
from integrations.models import IntegrationClient

LIST = "/api/v1/integrations/clients"
CREATED_FIELDS = {"client_id", "client_secret", "api_key", "client_name", "status", "permissions", "created_at"}


def detail(client_id: str) -> str:
    return f"{LIST}/{client_id}"


@pytest.fixture
def admin_api(api_client_for, admin):
    return api_client_for(admin)


def create(api, **overrides):
    payload = {"client_name": "Reporting service", "description": "Nightly reports", "permissions": ["use_chat"]}
    return api.post(LIST, {**payload, **overrides}, format="json")


def test_create_returns_secret_and_key_once_and_stores_neither_in_plain_text(admin_api, admin):
    response = create(admin_api, permissions=["use_chat", "read_config", "use_chat"])
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["success"] is True
    data = body["data"]
    assert set(data) >= CREATED_FIELDS
    assert data["status"] == "active" and data["permissions"] == ["read_config", "use_chat"]
    assert data["client_id"].startswith("mvc_") and data["api_key"].startswith("mvk_")
    row = IntegrationClient.objects.get(client_id=data["client_id"])
    assert row.created_by_id == admin.pk
    assert row.api_key_hash == hash_api_key(data["api_key"]) and data["api_key"] not in str(row.__dict__)
    assert data["client_secret"] not in row.secret_encrypted
    assert decrypt_secret(row.secret_encrypted) == data["client_secret"]
    audit = AuditLog.objects.get(action="client.create")
    assert (audit.user_id, audit.resource_id, audit.success) == (str(admin.pk), data["client_id"], True)
    assert audit.details["permissions"] == ["read_config", "use_chat"]


def test_reverse_names_follow_the_router_convention(admin_api):
    assert reverse("api-v1:integration-clients-list") == LIST
    assert reverse("api-v1:integration-clients-rotate", args=["mvc_x"]) == f"{LIST}/mvc_x/rotate"


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"client_name": ""}, "client_name"),
        ({"client_name": "x" * 101}, "client_name"),
        ({"permissions": []}, "permissions"),
        ({"permissions": ["manage_integrations"]}, "permissions"),
        ({"permissions": "use_chat"}, "permissions"),
        ({"allowed_ip_ranges": ["10.0.0.0/33"]}, "allowed_ip_ranges"),
        ({"expires_at": "2000-01-01T00:00:00Z"}, "expires_at"),
        ({"status": "revoked"}, "status"),
        ({"client_secret": "mine"}, "client_secret"),
    ],
)
def test_create_validation_errors_are_422_with_details(admin_api, overrides, field):
    response = create(admin_api, **overrides)
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and field in error["details"]
    assert not IntegrationClient.objects.exists()


def test_create_normalizes_ip_ranges(admin_api):
    response = create(admin_api, allowed_ip_ranges=["10.1.2.3/16", "192.168.0.7", "2001:db8::1/32"])
    assert response.json()["data"]["allowed_ip_ranges"] == ["10.1.0.0/16", "192.168.0.7/32", "2001:db8::/32"]


def test_malformed_json_is_400(admin_api):
    response = admin_api.generic("POST", LIST, "{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "BAD_REQUEST"


def test_list_is_paginated_filtered_and_never_shows_secrets(admin_api, django_assert_max_num_queries):
    secrets = []
    for index in range(3):
        data = create(admin_api, client_name=f"client {index}").json()["data"]
        secrets += [data["client_secret"], data["api_key"]]
    admin_api.delete(detail(data["client_id"]))
    with django_assert_max_num_queries(6):
        response = admin_api.get(LIST, {"per_page": 2})
    assert response.status_code == 200
    page = response.json()["data"]
    assert (page["total"], page["page"], page["per_page"], page["has_next"]) == (3, 1, 2, True)
    assert [item["client_name"] for item in page["clients"]] == ["client 2", "client 1"]
    assert "client_secret" not in page["clients"][0] and "api_key" not in page["clients"][0]
    revoked = admin_api.get(LIST, {"status": "revoked"}).json()["data"]
    assert [item["client_name"] for item in revoked["clients"]] == ["client 2"]
    searched = admin_api.get(LIST, {"search": "client 1"}).json()["data"]
    assert [item["client_name"] for item in searched["clients"]] == ["client 1"]
    for text in (response.content.decode(), str(revoked), str(searched)):
        assert not any(secret in text for secret in secrets)


@pytest.mark.parametrize("query", [{"status": "nope"}, {"per_page": 101}, {"page": 0}])
def test_bad_list_query_is_422(admin_api, query):
    response = admin_api.get(LIST, query)
    assert response.status_code == 422 and response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_retrieve_and_unknown_id(admin_api):
    data = create(admin_api).json()["data"]
    response = admin_api.get(detail(data["client_id"]))
    assert response.status_code == 200
    shown = response.json()["data"]
    assert shown["client_id"] == data["client_id"] and shown["api_key_prefix"] == data["api_key"].split(".")[0]
    assert data["client_secret"] not in response.content.decode() and data["api_key"] not in response.content.decode()
    missing = admin_api.get(detail("mvc_000000000000000000000000"))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "RESOURCE_NOT_FOUND"


def test_patch_changes_allowed_fields_and_audits_old_and_new(admin_api):
    client_id = create(admin_api).json()["data"]["client_id"]
    expiry = (timezone.now() + timedelta(days=30)).replace(microsecond=0)
    response = admin_api.patch(
        detail(client_id),
        {
            "client_name": "Renamed",
            "permissions": ["read_config"],
            "allowed_ip_ranges": ["10.0.0.0/8"],
            "expires_at": expiry.isoformat(),
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert (data["client_name"], data["permissions"], data["allowed_ip_ranges"]) == (
        "Renamed",
        ["read_config"],
        ["10.0.0.0/8"],
    )
    audit = AuditLog.objects.get(action="client.update")
    assert audit.details["changes"]["client_name"] == {
        "old": "Reporting service",
        "new": "Renamed",
    }
    assert audit.details["changes"]["permissions"] == {"old": ["use_chat"], "new": ["read_config"]}


@pytest.mark.parametrize(
    "payload", [{"status": "active"}, {"client_id": "mvc_mine"}, {"permissions": ["system_admin"]}]
)
def test_patch_refuses_fields_it_cannot_change(admin_api, payload):
    client_id = create(admin_api).json()["data"]["client_id"]
    response = admin_api.patch(detail(client_id), payload, format="json")
    assert response.status_code == 422
    assert not AuditLog.objects.filter(action="client.update").exists()


def test_put_is_not_offered(admin_api):
    client_id = create(admin_api).json()["data"]["client_id"]
    response = admin_api.put(detail(client_id), {"client_name": "x", "permissions": ["use_chat"]}, format="json")
    assert response.status_code == 405 and response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


def test_delete_revokes_and_answers_200_with_null_data(admin_api):
    data = create(admin_api).json()["data"]
    response = admin_api.delete(detail(data["client_id"]))
    assert response.status_code == 200
    assert response.json()["data"] is None and response.json()["message"]
    row = IntegrationClient.objects.get(client_id=data["client_id"])
    assert row.status == "revoked" and row.revoked_at is not None
    assert admin_api.delete(detail(data["client_id"])).status_code == 200
    assert AuditLog.objects.filter(action="client.revoke").count() == 1
    assert admin_api.get(detail(data["client_id"])).json()["data"]["status"] == "revoked"


def test_rotate_issues_new_credentials_once_and_audits(admin_api):
    first = create(admin_api).json()["data"]
    response = admin_api.post(f"{detail(first['client_id'])}/rotate")
    assert response.status_code == 200, response.content
    rotated = response.json()["data"]
    assert rotated["client_id"] == first["client_id"]
    assert rotated["client_secret"] != first["client_secret"] and rotated["api_key"] != first["api_key"]
    row = IntegrationClient.objects.get(client_id=first["client_id"])
    assert decrypt_secret(row.secret_encrypted) == rotated["client_secret"]
    assert row.api_key_hash == hash_api_key(rotated["api_key"])
    assert AuditLog.objects.filter(action="client.rotate", resource_id=first["client_id"]).count() == 1


def test_rotate_of_a_revoked_client_is_409(admin_api):
    client_id = create(admin_api).json()["data"]["client_id"]
    admin_api.delete(detail(client_id))
    response = admin_api.post(f"{detail(client_id)}/rotate")
    assert response.status_code == 409 and response.json()["error"]["code"] == "CONFLICT"


def test_idempotent_create_replays_without_secrets(admin_api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "create-reporting-1"}
    payload = {"client_name": "Reporting service", "permissions": ["use_chat"]}
    first = admin_api.post(LIST, payload, format="json", **headers)
    again = admin_api.post(LIST, payload, format="json", **headers)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    replayed = again.json()["data"]
    assert replayed["client_id"] == first.json()["data"]["client_id"]
    assert replayed["client_secret"] is None and replayed["api_key"] is None
    assert IntegrationClient.objects.count() == 1


@pytest.mark.parametrize("role", ["normal", "superuser"])
def test_users_without_manage_integrations_get_403(api_client_for, role):
    api = api_client_for(UserFactory(role=role))
    assert api.get(LIST).status_code == 403
    response = create(api)
    assert response.status_code == 403 and response.json()["error"]["code"] == "PERMISSION_DENIED"
    assert not IntegrationClient.objects.exists()


def test_anonymous_gets_401(api_client, db):
    for response in (api_client.get(LIST), api_client.post(LIST, {}, format="json")):
        assert response.status_code == 401 and response.json()["error"]["code"] == "AUTHENTICATION_FAILED"


def test_rate_limit_headers_on_list_and_create(admin_api):
    listed = admin_api.get(LIST)
    assert listed["X-RateLimit-Limit"] == "100"
    created = create(admin_api)
    assert created["X-RateLimit-Limit"] == "50" and created["X-RateLimit-Remaining"] == "49"
