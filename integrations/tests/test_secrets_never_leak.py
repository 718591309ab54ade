"""No secret or API key reaches a response after its one showing, a log line, an audit row or an SQL statement."""

import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditLog
from integrations.crypto import hash_api_key
from integrations.signing import signed_headers

from .conftest import PROBE_URLS

pytestmark = [pytest.mark.urls(PROBE_URLS), pytest.mark.django_db]

LIST = "/api/v1/integrations/clients"
LOGGERS = ["", "django", "django.request", "django.db.backends", "majed_vanna", "accounts", "integrations"]


def test_secrets_appear_only_in_their_one_response(api_client_for, admin, client, caplog):
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    api = api_client_for(admin)
    shown, later = [], []
    with CaptureQueriesContext(connection) as queries:
        created = api.post(
            LIST, {"client_name": "Reporter", "permissions": ["use_chat"], "description": "d"}, format="json"
        )
        client_id = created.json()["data"]["client_id"]
        first = created.json()["data"]
        rotated = api.post(f"{LIST}/{client_id}/rotate").json()["data"]
        secrets = [first["client_secret"], first["api_key"], rotated["client_secret"], rotated["api_key"]]
        secrets += [value.split(".", 1)[1] for value in (first["api_key"], rotated["api_key"])]

        # use the new credentials (and try the old ones) both ways
        shown.append(client.get("/api/v1/_probe/chat", headers={"X-API-Key": rotated["api_key"]}))
        shown.append(client.get("/api/v1/_probe/chat", headers={"X-API-Key": first["api_key"]}))
        for secret in (rotated["client_secret"], first["client_secret"]):
            headers = signed_headers(client_id=client_id, secret=secret, method="POST", path="/api/v1/_probe/chat")
            shown.append(client.post("/api/v1/_probe/chat", b"", content_type="application/json", headers=headers))
        assert [response.status_code for response in shown] == [200, 401, 200, 401]

        later.append(api.get(LIST))
        later.append(api.get(f"{LIST}/{client_id}"))
        later.append(api.patch(f"{LIST}/{client_id}", {"client_name": "Renamed"}, format="json"))
        later.append(api.delete(f"{LIST}/{client_id}"))
        later.append(api.get(f"{LIST}/{client_id}"))
        later.append(api.get(LIST, {"status": "revoked"}))

    assert all(response.status_code == 200 for response in later)
    haystacks = {
        "responses": "\n".join(response.content.decode() for response in [*shown, *later]),
        "audit rows": "\n".join(
            repr(row) for row in AuditLog.objects.values_list("details", "error_message", "resource_id", "user_agent")
        ),
        "log lines": caplog.text + "\n".join(repr(record.__dict__) for record in caplog.records),
        "sql": "\n".join(query["sql"] for query in queries.captured_queries),
    }
    assert set(AuditLog.objects.values_list("action", flat=True)) >= {
        "client.create",
        "client.rotate",
        "client.update",
        "client.revoke",
    }
    assert caplog.records, "the logging capture saw nothing, so it would prove nothing"
    assert hash_api_key(rotated["api_key"]) in haystacks["sql"], "SQL capture lacks parameters, so it proves nothing"
    assert "Integration authentication refused" in caplog.text
    for where, text in haystacks.items():
        for secret in secrets:
            assert secret not in text, f"a secret leaked into {where}"
