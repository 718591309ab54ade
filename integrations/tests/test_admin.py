"""Django admin for integration clients: list/search/filter, create (credentials shown once), edit through
services, revoke, rotate once."""

import logging
import re

import pytest
from django.contrib.admin.models import LogEntry

from accounts.models import AuditLog
from accounts.tests.factories import UserFactory
from integrations.crypto import decrypt_secret, hash_api_key
from integrations.models import IntegrationClient
from integrations.validators import MAX_IP_RANGES

CHANGELIST = "/admin/integrations/integrationclient/"
ADD = f"{CHANGELIST}add/"


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


def test_delete_is_not_offered(admin_browser, make_client):
    issued = make_client()
    assert admin_browser.get(f"{CHANGELIST}{issued.client.pk}/delete/").status_code == 403


def _add_form(**overrides) -> dict:
    form = {
        "name": "Finance export",
        "description": "Nightly numbers",
        "permissions": ["use_chat", "read_config"],
        "allowed_ip_ranges": "10.1.2.3/8\n192.168.0.0/16",
        "expires_at_0": "2099-01-31",
        "expires_at_1": "12:00:00",
    }
    form.update(overrides)
    return form


def test_add_form_offers_the_clients_fields(admin_browser):
    response = admin_browser.get(ADD)
    assert response.status_code == 200
    page = response.content.decode()
    for name in ("name", "description", "permissions", "allowed_ip_ranges", "expires_at_0"):
        assert f'name="{name}"' in page
    assert 'name="client_id"' not in page and "api_key_prefix" not in page


def test_add_creates_through_the_service_and_shows_the_credentials_once(admin_browser, admin, caplog):
    caplog.set_level(logging.DEBUG)
    response = admin_browser.post(ADD, _add_form())
    assert response.status_code == 200, response.content.decode()[:2000]
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    row = IntegrationClient.objects.get()
    assert (row.name, row.description, row.permissions, row.allowed_ip_ranges) == (
        "Finance export",
        "Nightly numbers",
        ["read_config", "use_chat"],
        ["10.0.0.0/8", "192.168.0.0/16"],
    )
    assert row.expires_at.year == 2099 and row.created_by_id == admin.pk
    secret = decrypt_secret(row.secret_encrypted)
    api_key = re.search(r"mvk_[A-Za-z0-9_.-]+", page).group(0)
    assert secret in page and hash_api_key(api_key) == row.api_key_hash and row.client_id in page
    assert "shown only once" in page

    audit = AuditLog.objects.get(action="client.create")
    assert audit.user_id == str(admin.pk) and audit.resource_id == row.client_id
    assert audit.details["permissions"] == ["read_config", "use_chat"]
    # Never again: not in the audit row, the admin's own log, the application log, or any later page.
    stored = [str(audit.details), audit.error_message, *(str(e.change_message) for e in LogEntry.objects.all())]
    for value in (secret, api_key):
        assert not any(value in text for text in stored)
        assert value not in caplog.text
        for url in (CHANGELIST, change_url_of(row), f"{CHANGELIST}{row.pk}/history/"):
            later = admin_browser.get(url)
            assert later.status_code == 200 and value not in later.content.decode()


def change_url_of(row) -> str:
    return f"{CHANGELIST}{row.pk}/change/"


def test_add_with_bad_input_shows_the_errors_and_creates_nothing(admin_browser):
    too_many_ranges = "\n".join(f"10.0.{n}.0/24" for n in range(MAX_IP_RANGES + 1))
    for bad in (
        {"allowed_ip_ranges": "not-an-ip"},
        {"allowed_ip_ranges": too_many_ranges},
        {"permissions": []},
        {"permissions": ["admin"]},
        {"name": ""},
        {"expires_at_0": "2001-01-01"},
    ):
        response = admin_browser.post(ADD, _add_form(**bad))
        assert response.status_code == 200 and "errornote" in response.content.decode()
    assert not IntegrationClient.objects.exists()
    assert not AuditLog.objects.filter(action="client.create").exists()


def test_save_and_add_another_still_shows_the_credentials(admin_browser):
    response = admin_browser.post(ADD, {**_add_form(), "_addanother": "1"})
    assert response.status_code == 200
    assert decrypt_secret(IntegrationClient.objects.get().secret_encrypted) in response.content.decode()


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


@pytest.mark.parametrize("role", ["superuser", "normal"])
def test_non_admin_users_cannot_use_the_admin(client, make_client, role):
    issued = make_client()
    client.force_login(UserFactory(role=role))
    assert client.get(CHANGELIST).status_code == 302  # to the admin login page
    assert client.get(ADD).status_code == 302
    assert client.post(ADD, _add_form()).status_code == 302
    rotate = {"action": "rotate_clients", "_selected_action": [str(issued.client.pk)]}
    assert client.post(CHANGELIST, rotate).status_code == 302
    assert IntegrationClient.objects.count() == 1
    assert not AuditLog.objects.filter(action__in=["client.create", "client.rotate"], user_id__gt="").exists()


def test_changelist_cuts_long_names_with_the_whole_in_the_title(admin_browser, make_client):
    long_name = "Nightly reporting export for the finance department, region 7"
    make_client(name=long_name)
    page = admin_browser.get(CHANGELIST).content.decode()
    assert f'title="{long_name}"' in page and f">{long_name}<" not in page
