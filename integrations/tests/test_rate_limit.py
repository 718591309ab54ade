"""An integration client's own ``rate_limit`` (contract §3): set on create, PATCH and the command, validated
like the configuration's rates, audited, and carried by the principal."""

import pytest
from django.core.management import CommandError, call_command

from accounts.models import AuditLog
from integrations.models import IntegrationClient
from integrations.principal import IntegrationPrincipal

LIST = "/api/v1/integrations/clients"


@pytest.fixture
def admin_api(api_client_for, admin):
    return api_client_for(admin)


def create(api, **overrides):
    return api.post(LIST, {"client_name": "Chatbot backend", "permissions": ["use_chat"], **overrides}, format="json")


def test_create_with_a_rate_limit_and_the_principal_carries_it(admin_api):
    response = create(admin_api, rate_limit="10000/hour")
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["rate_limit"] == "10000/hour"
    client = IntegrationClient.objects.get(client_id=data["client_id"])
    assert IntegrationPrincipal(client).rate_limit == "10000/hour"
    assert AuditLog.objects.get(action="client.create").details["rate_limit"] == "10000/hour"
    assert admin_api.get(f"{LIST}/{client.client_id}").json()["data"]["rate_limit"] == "10000/hour"


def test_without_one_it_is_none(admin_api):
    data = create(admin_api).json()["data"]
    assert data["rate_limit"] is None
    client = IntegrationClient.objects.get(client_id=data["client_id"])
    assert IntegrationPrincipal(client).rate_limit is None


def test_patch_changes_and_clears_it_audited(admin_api):
    client_id = create(admin_api, rate_limit="100/hour").json()["data"]["client_id"]
    response = admin_api.patch(f"{LIST}/{client_id}", {"rate_limit": "500/minute"}, format="json")
    assert response.status_code == 200 and response.json()["data"]["rate_limit"] == "500/minute"
    row = AuditLog.objects.filter(action="client.update").latest("id")
    assert row.details["changes"]["rate_limit"] == {"old": "100/hour", "new": "500/minute"}
    response = admin_api.patch(f"{LIST}/{client_id}", {"rate_limit": None}, format="json")
    assert response.json()["data"]["rate_limit"] is None
    assert IntegrationPrincipal(IntegrationClient.objects.get(client_id=client_id)).rate_limit is None


@pytest.mark.parametrize("bad", ["0/hour", "lots", "10/fortnight", "-1/hour", "10"])
def test_a_bad_rate_is_422(admin_api, bad):
    response = create(admin_api, rate_limit=bad)
    assert response.status_code == 422
    assert "rate_limit" in response.json()["error"]["details"]
    assert not IntegrationClient.objects.exists()


def test_command_option(db, capsys):
    call_command("create_integration_client", "--name", "bot", "--permissions", "use_chat", "--rate-limit", "9000/hour")
    assert "rate_limit: 9000/hour" in capsys.readouterr().out
    assert IntegrationClient.objects.get().rate_limit == "9000/hour"
    with pytest.raises(CommandError, match="rate_limit"):
        call_command("create_integration_client", "--name", "bot2", "--permissions", "use_chat", "--rate-limit", "x")
