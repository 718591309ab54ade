"""Django admin for integration clients: list/search/filter, edit through services, revoke, rotate once."""

import pytest

from accounts.models import AuditLog
from accounts.tests.factories import UserFactory
from integrations.crypto import decrypt_secret, hash_api_key
from integrations.models import IntegrationClient

CHANGELIST = "/admin/integrations/integrationclient/"


@pytest.fixture
def admin_browser(client, admin):
    client.force_login(admin)
    return client


def change_url(issued) -> str:
    return f"{CHANGELIST}{issued.client.pk}/change/"


def test_changelist_search_and_filter(admin_browser, make_client):
    alpha = make_client(name="Alpha reports")
    beta = make_client(name="Beta sync")
    IntegrationClient.objects.filter(pk=beta.client.pk).update(status="revoked")
    page = admin_browser.get(CHANGELIST).content.decode()
    assert "Alpha reports" in page and "Beta sync" in page
    searched = admin_browser.get(CHANGELIST, {"q": "alpha"}).content.decode()
    assert "Alpha reports" in searched and "Beta sync" not in searched
    filtered = admin_browser.get(CHANGELIST, {"status__exact": "revoked"}).content.decode()
    assert "Beta sync" in filtered and "Alpha reports" not in filtered
    for secret in (alpha.client_secret, alpha.api_key, beta.client_secret, beta.api_key):
        assert secret not in page


def test_change_form_never_shows_hashes_or_ciphertext(admin_browser, make_client):
    issued = make_client()
    row = IntegrationClient.objects.get(pk=issued.client.pk)
    page = admin_browser.get(change_url(issued)).content.decode()
    assert issued.client.client_id in page
    for hidden in (row.api_key_hash, row.secret_encrypted, issued.client_secret, issued.api_key):
        assert hidden not in page


def test_add_and_delete_are_not_offered(admin_browser, make_client):
    issued = make_client()
    assert admin_browser.get(f"{CHANGELIST}add/").status_code == 403
    assert admin_browser.get(f"{CHANGELIST}{issued.client.pk}/delete/").status_code == 403


def test_edit_goes_through_the_service_and_is_audited(admin_browser, make_client, admin):
    issued = make_client(["use_chat"])
    response = admin_browser.post(
        change_url(issued),
        {
            "name": "Renamed",
            "description": "",
            "permissions": ["use_chat", "read_config"],
            "allowed_ip_ranges": "10.0.0.1/8\n",
            "expires_at_0": "",
            "expires_at_1": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    row = IntegrationClient.objects.get(pk=issued.client.pk)
    assert (row.name, row.permissions, row.allowed_ip_ranges) == (
        "Renamed",
        ["read_config", "use_chat"],
        ["10.0.0.0/8"],
    )
    audit = AuditLog.objects.get(action="client.update")
    assert audit.user_id == str(admin.pk)
    assert audit.details["changes"]["permissions"] == {"old": ["use_chat"], "new": ["read_config", "use_chat"]}


def test_edit_with_a_bad_ip_range_shows_the_error(admin_browser, make_client):
    issued = make_client()
    response = admin_browser.post(
        change_url(issued),
        {
            "name": "x",
            "permissions": ["use_chat"],
            "allowed_ip_ranges": "not-an-ip",
            "expires_at_0": "",
            "expires_at_1": "",
        },
    )
    assert response.status_code == 200 and "is not an IP address or CIDR range" in response.content.decode()
    assert not AuditLog.objects.filter(action="client.update").exists()


def test_revoke_action(admin_browser, make_client):
    issued = make_client()
    response = admin_browser.post(
        CHANGELIST, {"action": "revoke_clients", "_selected_action": [str(issued.client.pk)]}, follow=True
    )
    assert response.status_code == 200
    assert IntegrationClient.objects.get(pk=issued.client.pk).status == "revoked"
    assert AuditLog.objects.filter(action="client.revoke", resource_id=issued.client.client_id).exists()


def test_rotate_action_shows_new_credentials_once(admin_browser, make_client):
    issued = make_client()
    revoked = make_client(name="Gone")
    IntegrationClient.objects.filter(pk=revoked.client.pk).update(status="revoked")
    response = admin_browser.post(
        CHANGELIST,
        {"action": "rotate_clients", "_selected_action": [str(issued.client.pk), str(revoked.client.pk)]},
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    row = IntegrationClient.objects.get(pk=issued.client.pk)
    new_secret = decrypt_secret(row.secret_encrypted)
    assert new_secret != issued.client_secret and new_secret in page
    new_key = next(word for word in page.replace("<", " ").replace(">", " ").split() if word.startswith("mvk_"))
    assert hash_api_key(new_key) == row.api_key_hash
    assert "Not rotated (revoked)" in page and revoked.client.client_id in page
    assert AuditLog.objects.filter(action="client.rotate").count() == 1
    # Not kept anywhere for a second showing.
    follow_up = admin_browser.get(CHANGELIST).content.decode()
    assert new_secret not in follow_up and new_key not in follow_up


def test_non_admin_users_cannot_use_the_admin(client, make_client):
    client.force_login(UserFactory(role="superuser"))
    assert client.get(CHANGELIST).status_code == 302  # to the admin login page
