"""The OpenAPI schema documents the contract's paths (no trailing slash), while requests keep working with
or without one, and the schema stays valid (what ``scripts/test.sh`` checks with ``--fail-on-warn``)."""

import re

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


# --- The schema is as strict as the API (issue 13: a fuzzer generating from it found it looser).


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def _query(operation) -> dict:
    return {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "query"}


def _resolve(schema, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _success_data(schema, operation) -> dict:
    for status, response in operation["responses"].items():
        content = (response.get("content") or {}).get("application/json")
        if status.startswith("2") and content:
            return _resolve(schema, _resolve(schema, content["schema"]).get("properties", {}).get("data", {}))
    return {}


PAGE_KEYS = {"total", "page", "per_page", "has_next"}


def test_every_list_and_every_page_parameter_is_bounded(schema):
    """Every operation that answers a page (``total``, ``page``, ``per_page``, ``has_next``) documents ``page``
    and ``per_page`` with the bounds the API enforces (422 outside them), ``users/{user_id}/conversations``
    included. ``page`` has no maximum: the API has none (contract §2; a page past the end is empty)."""
    from majed_vanna.api.pagination import MAX_PER_PAGE

    lists = [
        f"{method.upper()} {path}"
        for path, method, operation in _operations(schema)
        if set(_success_data(schema, operation).get("properties", {})) >= PAGE_KEYS
    ]
    assert "GET /api/v1/users/{user_id}/conversations" in lists and len(lists) >= 5, lists
    expected = {"page": (1, None), "per_page": (1, MAX_PER_PAGE)}
    for path, method, operation in _operations(schema):
        query = _query(operation)
        label = f"{method.upper()} {path}"
        if label in lists:
            assert {"page", "per_page"} <= set(query), label
        for name, bounds in expected.items():
            if name in query:
                found = query[name]["schema"]
                assert (found.get("type"), found.get("minimum"), found.get("maximum")) == ("integer", *bounds), label


def test_date_filters_are_date_times_and_orderings_are_enums(schema):
    checked = 0
    for path, _method, operation in _operations(schema):
        for name, parameter in _query(operation).items():
            if name in ("since", "until"):
                assert parameter["schema"].get("format") == "date-time", (path, name)
                checked += 1
            if name == "ordering":
                values = parameter["schema"].get("enum") or parameter["schema"].get("items", {}).get("enum")
                assert values, (path, name)
                checked += 1
    assert checked >= 3


# Each resource a caller creates, and the operations a stateful fuzzer chains after creating one.
CRUD = {
    "users_create": {"users_retrieve", "users_update", "users_partial_update", "users_destroy"},
    "integrations_clients_create": {
        "integrations_clients_retrieve",
        "integrations_clients_partial_update",
        "integrations_clients_destroy",
        "integrations_clients_rotate_create",
    },
    "backups_create": {"backups_retrieve", "backups_destroy", "backups_download_retrieve"},
    "backups_upload_create": {"backups_retrieve", "backups_destroy", "backups_restore_create"},
}


def test_create_operations_link_to_what_reads_updates_and_deletes_what_they_made(schema):
    """OpenAPI links (``responses.<2xx>.links``): the created id, read from the answer's body, fills the path
    parameter of each operation on the new object, so a stateful fuzzer chains create -> read -> update ->
    delete. Every link names an operation that exists and fills every path parameter it has."""
    by_id = {operation["operationId"]: (path, operation) for path, _, operation in _operations(schema)}
    for create, expected in CRUD.items():
        _, operation = by_id[create]
        responses = {status: r for status, r in operation["responses"].items() if status.startswith("2")}
        assert responses, create
        for status, response in responses.items():
            links = response.get("links") or {}
            linked = {link["operationId"] for link in links.values()}
            assert expected <= linked, (create, status, sorted(expected - linked))
            data = _success_data(schema, operation).get("properties", {})
            for name, link in links.items():
                target_path, _ = by_id[link["operationId"]]
                assert set(link["parameters"]) == set(re.findall(r"{(\w+)}", target_path)), (create, name)
                for expression in link["parameters"].values():
                    field = re.fullmatch(r"\$response\.body#/data/(\w+)", expression)
                    assert field and field.group(1) in data, (create, name, expression)
