"""The OpenAPI schema documents the contract's paths (no trailing slash), while requests keep working with
or without one, and the schema stays valid (what ``scripts/test.sh`` checks with ``--fail-on-warn``)."""

import pytest
import yaml
from django.core.management import call_command

CONTRACT_PATHS = {
    "/api/v1/auth/login": {"post"},
    "/api/v1/users": {"get", "post"},
    "/api/v1/users/{user_id}": {"get", "put", "patch", "delete"},
    "/api/v1/integrations/clients/{client_id}/rotate": {"post"},
    "/api/v1/backups/{id}/restore": {"post"},
    "/api/v1/config": {"get", "put"},
    "/api/v1/health/ready": {"get"},
}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200, response.content[:500]
    return response.json()


def test_no_documented_path_has_a_trailing_slash(schema):
    paths = list(schema["paths"])
    assert len(paths) >= 25
    assert [path for path in paths if path.endswith("/")] == []


def test_contract_paths_are_documented_with_their_methods(schema):
    for path, methods in CONTRACT_PATHS.items():
        assert path in schema["paths"], path
        assert methods <= set(schema["paths"][path]), (path, set(schema["paths"][path]))


def test_operation_ids_stay_unique(schema):
    ids = [op["operationId"] for item in schema["paths"].values() for op in item.values() if "operationId" in op]
    assert len(ids) == len(set(ids))


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/users", "/api/v1/auth/me", "/api/v1/config", "/api/v1/health/live"])
def test_requests_work_with_and_without_the_trailing_slash(admin, api_client_for, path):
    client = api_client_for(admin)
    for sent in (path, path + "/"):
        response = client.get(sent)
        assert response.status_code == 200, (sent, response.content)
        assert response.json()["success"] is True


def test_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "openapi.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert "/api/v1/auth/login" in yaml.safe_load(out.read_text())["paths"]


def test_a_path_routed_with_and_without_slash_is_documented_once():
    from majed_vanna.api.schema import contract_paths

    def view():
        pass

    endpoints = [
        ("/api/v1/things/", r"^api/v1/things/$", "GET", view),
        ("/api/v1/things", r"^api/v1/things$", "GET", view),
        ("/api/v1/things/", r"^api/v1/things/$", "POST", view),
        ("/", r"^$", "GET", view),
    ]
    assert [(path, method) for path, _, method, _ in contract_paths(endpoints)] == [
        ("/api/v1/things", "GET"),
        ("/api/v1/things", "POST"),
        ("/", "GET"),
    ]
