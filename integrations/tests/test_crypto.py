"""Secrets at rest: API keys only as a hash, signing secrets encrypted with rotatable keys."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from integrations import crypto
from integrations.models import IntegrationClient
from integrations.signing import signed_headers

from .conftest import PROBE_URLS

NEW_KEY = "n" * 40
OLD_KEY = "o" * 40


def stored_row_text(client_id: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM integrations_integrationclient WHERE client_id = %s", [client_id])
        return repr(cursor.fetchone())


def test_database_row_holds_neither_the_secret_nor_the_key(make_client):
    issued = make_client()
    row = stored_row_text(issued.client.client_id)
    assert issued.client_secret not in row
    assert issued.api_key not in row
    assert issued.api_key.split(".", 1)[1] not in row  # the random part of the key
    assert crypto.hash_api_key(issued.api_key) in row


def test_encryption_key_derives_from_secret_key_by_default(make_client):
    issued = make_client()
    token = IntegrationClient.objects.get(pk=issued.client.pk).secret_encrypted
    assert crypto.decrypt_secret(token) == issued.client_secret
    with override_settings(SECRET_KEY="a-different-secret-key-" + "z" * 30):
        assert crypto.decrypt_secret(token) is None


@pytest.mark.urls(PROBE_URLS)
def test_key_rotation_keeps_clients_working_and_reencrypts(make_client, client):
    issued = make_client()
    with override_settings(INTEGRATIONS_ENCRYPTION_KEYS=[OLD_KEY]):
        old_client = make_client(name="old key")
    with override_settings(INTEGRATIONS_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY, "secret_key"]):
        call_command("reencrypt_client_secrets")
        for each in (issued, old_client):
            headers = signed_headers(
                client_id=each.client.client_id, secret=each.client_secret, method="GET", path="/api/v1/_probe/chat"
            )
            assert client.get("/api/v1/_probe/chat", headers=headers).status_code == 200
    with override_settings(INTEGRATIONS_ENCRYPTION_KEYS=[NEW_KEY]):  # old keys dropped after re-encryption
        for each in (issued, old_client):
            token = IntegrationClient.objects.get(pk=each.client.pk).secret_encrypted
            assert crypto.decrypt_secret(token) == each.client_secret


def test_reencrypt_fails_loudly_when_a_secret_cannot_be_decrypted(make_client):
    with override_settings(INTEGRATIONS_ENCRYPTION_KEYS=[OLD_KEY]):
        issued = make_client()
    before = IntegrationClient.objects.get(pk=issued.client.pk).secret_encrypted
    with override_settings(INTEGRATIONS_ENCRYPTION_KEYS=[NEW_KEY]), pytest.raises(CommandError, match="1 secret"):
        call_command("reencrypt_client_secrets")
    assert IntegrationClient.objects.get(pk=issued.client.pk).secret_encrypted == before


def test_short_passphrases_are_refused():
    with override_settings(INTEGRATIONS_ENCRYPTION_KEYS=["too-short"]), pytest.raises(ImproperlyConfigured):
        crypto.encrypt_secret("x")


def test_api_key_prefix_parsing():
    issued = crypto.issue_credentials()
    assert crypto.api_key_prefix_of(issued.api_key) == issued.api_key_prefix
    for bad in ("", "mvk_", "mvk_abc.def", "xyz_0123456789ab.def", issued.api_key_prefix + ".", "mvk_" + "a" * 300):
        assert crypto.api_key_prefix_of(bad) is None
    assert crypto.api_key_matches(issued.api_key, issued.api_key_hash)
    assert not crypto.api_key_matches(issued.api_key + "x", issued.api_key_hash)
