"""Regressions found by fuzzing the API against its own OpenAPI schema (``scripts/fuzz_api.sh``).

Each test is one failure schemathesis reported: a 500 for a request a client may send, or a response the
schema did not describe.
"""

import pytest

from majed_vanna.api.schema import wrap_in_envelope

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/users",
        "/api/v1/users/00000000-0000-0000-0000-000000000001",
        "/api/v1/backups",
        "/api/v1/backups/upload",
        "/api/v1/backups/00000000-0000-0000-0000-000000000001/restore",
        "/api/v1/integrations/clients",
        "/api/v1/integrations/clients/mvc_x/rotate",
        "/api/v1/config",
    ],
)
def test_options_describes_the_endpoint_instead_of_500(admin, api_client_for, path):
    # DRF's OPTIONS introspects ``serializer_class``; our viewsets have one serializer per operation instead.
    response = api_client_for(admin).options(path)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True
    assert "application/json" in body["data"]["renders"]


@pytest.mark.parametrize("page", ["46681509812779171840", str(2**63), str(2**62)])
def test_a_page_far_past_the_end_is_empty_not_500(admin, api_client_for, page):
    # The offset (page - 1) * per_page overflowed the database's integer: 500 on SQLite and PostgreSQL.
    response = api_client_for(admin).get(f"/api/v1/backups?page={page}")
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["backups"] == [] and data["has_next"] is False and data["page"] == int(page)


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def _json_schema(schema, path, method, status):
    return schema["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]


@pytest.mark.parametrize(
    "path", ["/api/v1/users/{user_id}", "/api/v1/backups/{id}", "/api/v1/integrations/clients/{client_id}"]
)
def test_deletes_are_documented_as_200_envelopes_with_null_data(schema, path):
    # Contract §1: deletes answer 200 with data null. The schema said 204 / "no response body".
    responses = schema["paths"][path]["delete"]["responses"]
    assert "204" not in responses
    envelope = _json_schema(schema, path, "delete", "200")
    assert envelope["required"] == ["success", "data", "message", "timestamp", "request_id"]
    assert envelope["properties"]["data"] == {"nullable": True}


@pytest.mark.parametrize("path", ["/api/v1/health", "/api/v1/health/ready"])
def test_health_503_is_documented_as_an_error_envelope(schema, path):
    assert _json_schema(schema, path, "get", "503") == {"$ref": "#/components/schemas/ErrorEnvelope"}


def test_every_documented_response_says_what_it_returns(schema):
    missing = [
        f"{method.upper()} {path} {status}"
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        for status, response in operation["responses"].items()
        if not response.get("content")
    ]
    assert missing == []


def test_the_hook_leaves_a_binary_download_alone():
    binary = {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}, "description": ""}
    result = {"paths": {"/x": {"get": {"responses": {"200": dict(binary)}}}}}
    wrap_in_envelope(result, None, None, True)
    assert result["paths"]["/x"]["get"]["responses"]["200"] == binary
