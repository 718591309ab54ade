"""Service rules not visible through one endpoint alone."""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import AuditLog
from integrations.models import IntegrationClient
from integrations.services import client_create, client_revoke, client_rotate, client_update
from majed_vanna.exceptions import ConflictError

pytestmark = pytest.mark.django_db


def test_update_without_a_change_writes_nothing(make_client, admin):
    issued = make_client(["use_chat"], description="same")
    before = IntegrationClient.objects.get(pk=issued.client.pk).updated_at
    client_update(client=issued.client, actor=admin, description=" same ", permissions=["use_chat", "use_chat"])
    assert IntegrationClient.objects.get(pk=issued.client.pk).updated_at == before
    assert not AuditLog.objects.filter(action="client.update").exists()


def test_update_refuses_fields_outside_the_contract(make_client, admin):
    issued = make_client()
    with pytest.raises(ValueError, match="status"):
        client_update(client=issued.client, actor=admin, status="active")


def test_model_validation_backs_up_the_serializers(admin):
    with pytest.raises(ValidationError) as error:
        client_create(name="x", permissions=["delete_user"], actor=admin)
    assert "permissions" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        client_create(name="x", permissions=["use_chat"], allowed_ip_ranges=["300.1.1.1"], actor=admin)
    assert "allowed_ip_ranges" in error.value.message_dict
    assert not IntegrationClient.objects.exists()


def test_revoked_client_cannot_be_rotated_and_revoke_is_idempotent(make_client, admin):
    issued = make_client()
    client_revoke(client=issued.client, actor=admin)
    first_revoked_at = IntegrationClient.objects.get(pk=issued.client.pk).revoked_at
    client_revoke(client=issued.client, actor=admin)
    assert IntegrationClient.objects.get(pk=issued.client.pk).revoked_at == first_revoked_at
    with pytest.raises(ConflictError):
        client_rotate(client=issued.client, actor=admin)
    assert AuditLog.objects.filter(action="client.rotate").count() == 0


def test_each_rotation_replaces_the_key_prefix(make_client, admin):
    issued = make_client()
    prefixes = {issued.client.api_key_prefix}
    for _ in range(3):
        prefixes.add(client_rotate(client=issued.client, actor=admin).client.api_key_prefix)
    assert len(prefixes) == 4
