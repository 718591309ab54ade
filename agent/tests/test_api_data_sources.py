"""``agent/data-sources``: who sees what, admin CRUD, audit rows, 422 per field, the test and schema actions."""

import pytest

from accounts.models import AuditLog
from agent.models import DataSource

from .factories import PASSWORD, PG_URL, make_source

pytestmark = pytest.mark.django_db

LIST = "/api/v1/agent/data-sources"


def detail(source) -> str:
    return f"{LIST}/{source.pk}"


def test_a_normal_user_lists_only_allowed_sources_without_connection_details(api_client_for, user):
    make_source(name="everyone", url=PG_URL)
    make_source(name="staff", url=PG_URL, roles=["admin"])
    make_source(name="off", url=PG_URL, enabled=False)
    response = api_client_for(user).get(LIST)
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert sorted(item["name"] for item in data["data_sources"]) == ["demo", "everyone"]
    assert data["total"] == 2
    for item in data["data_sources"]:
        assert set(item) == {"id", "name", "engine", "is_default"}
    assert PASSWORD not in response.content.decode() and "db.example.com" not in response.content.decode()


def test_a_hidden_source_is_404_for_a_normal_user(api_client_for, user):
    hidden = make_source(name="staff", url=PG_URL, roles=["admin"])
    client = api_client_for(user)
    assert client.get(detail(hidden)).json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert client.get(f"{detail(hidden)}/schema").status_code == 404


def test_an_admin_sees_every_source_with_the_url_masked(api_client_for, admin):
    make_source(name="staff", url=PG_URL, roles=["admin"], enabled=False)
    response = api_client_for(admin).get(LIST, {"ordering": "-name"})
    items = response.json()["data"]["data_sources"]
    assert [item["name"] for item in items] == ["staff", "demo"]
    assert items[0]["url"] == "postgresql://reader:********@db.example.com:5432/shop"
    assert PASSWORD not in response.content.decode()


def test_list_filters_and_bad_values(api_client_for, admin):
    make_source(name="Warehouse", url=PG_URL, enabled=False)
    client = api_client_for(admin)
    assert [i["name"] for i in client.get(LIST, {"enabled": "false"}).json()["data"]["data_sources"]] == ["Warehouse"]
    assert [i["name"] for i in client.get(LIST, {"search": "ware"}).json()["data"]["data_sources"]] == ["Warehouse"]
    assert [i["name"] for i in client.get(LIST, {"engine": "sqlite"}).json()["data"]["data_sources"]] == ["demo"]
    bad = client.get(LIST, {"engine": "oracle"})
    assert bad.status_code == 422 and "engine" in bad.json()["error"]["details"]


def test_admin_creates_updates_and_deletes_with_audit_rows(api_client_for, admin, sqlite_url):
    client = api_client_for(admin)
    created = client.post(LIST, {"name": "Shop", "url": PG_URL, "roles": ["normal"], "row_cap": 500}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()["data"]
    assert body["url"] == "postgresql://reader:********@db.example.com:5432/shop" and body["engine"] == "postgresql"
    assert body["roles"] == ["normal"] and body["row_cap"] == 500 and body["is_default"] is False
    source_id = body["id"]

    patched = client.patch(f"{LIST}/{source_id}", {"url": body["url"], "statement_timeout_ms": 1000}, format="json")
    assert patched.status_code == 200, patched.content
    assert patched.json()["data"]["statement_timeout_ms"] == 1000

    replaced = client.put(f"{LIST}/{source_id}", {"name": "Local shop", "url": sqlite_url}, format="json")
    assert replaced.status_code == 200, replaced.content
    assert replaced.json()["data"]["engine"] == "sqlite" and replaced.json()["data"]["name"] == "Local shop"

    deleted = client.delete(f"{LIST}/{source_id}")
    assert deleted.status_code == 200 and deleted.json()["data"] is None
    assert not DataSource.objects.filter(pk=source_id).exists()

    actions = list(
        AuditLog.objects.filter(resource="data_source", resource_id=source_id)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["data_source.create", "data_source.update", "data_source.update", "data_source.delete"]
    assert all(row.username == admin.username for row in AuditLog.objects.filter(resource_id=source_id))
    assert PASSWORD not in str(list(AuditLog.objects.values_list("details", flat=True)))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "url": "mysql://h/db"}, "url"),
        ({"name": "x", "url": PG_URL, "engine": "sqlite"}, "url"),
        ({"name": "x", "url": PG_URL, "statement_timeout_ms": 50}, "statement_timeout_ms"),
        ({"name": "x", "url": PG_URL, "row_cap": 100_001}, "row_cap"),
        ({"name": "x", "url": PG_URL, "max_result_bytes": 10}, "max_result_bytes"),
        ({"name": "x", "url": PG_URL, "roles": ["root"]}, "roles"),
        ({"name": "x", "url": "sqlite:////etc/passwd"}, "url"),
        ({"name": "x", "url": PG_URL, "schema_snapshot": {}}, "schema_snapshot"),
        ({"url": PG_URL}, "name"),
    ],
)
def test_bad_fields_are_422_per_field(api_client_for, admin, body, field):
    response = api_client_for(admin).post(LIST, body, format="json")
    assert response.status_code == 422, response.content
    assert field in response.json()["error"]["details"]


def test_a_name_in_use_is_409(api_client_for, admin):
    make_source(name="Shop", url=PG_URL)
    response = api_client_for(admin).post(LIST, {"name": "SHOP", "url": PG_URL}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "CONFLICT"


def test_the_default_source_cannot_be_deleted(api_client_for, admin):
    client = api_client_for(admin)
    default = next(item for item in client.get(LIST).json()["data"]["data_sources"] if item["is_default"])
    response = client.delete(f"{LIST}/{default['id']}")
    assert response.status_code == 409


def test_normal_users_may_not_write(api_client_for, user):
    source = make_source(name="Shop", url=PG_URL)
    client = api_client_for(user)
    assert client.post(LIST, {"name": "x", "url": PG_URL}, format="json").status_code == 403
    assert client.patch(detail(source), {"row_cap": 5}, format="json").status_code == 403
    assert client.delete(detail(source)).status_code == 403
    assert client.post(f"{detail(source)}/test").status_code == 403


# --- test and schema


def test_the_connection_test_answers_like_config_test_database_and_is_audited(api_client_for, admin, sqlite_url):
    source = make_source(name="Local", url=sqlite_url)
    response = api_client_for(admin).post(f"{detail(source)}/test")
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert set(data) == {"status", "message", "connection_time_ms", "details"} and data["status"] == "success"
    row = AuditLog.objects.get(action="data_source.test")
    assert row.success and row.resource_id == str(source.pk)


def test_a_failed_connection_test_is_a_failure_without_the_password(api_client_for, admin):
    source = make_source(name="Shop", url="postgresql://reader:s3cret-pass@127.0.0.1:1/shop")
    response = api_client_for(admin).post(f"{detail(source)}/test")
    data = response.json()["data"]
    assert response.status_code == 200 and data["status"] == "failure"
    assert PASSWORD not in response.content.decode()
    row = AuditLog.objects.get(action="data_source.test")
    assert not row.success and PASSWORD not in row.error_message + str(row.details)


def test_the_schema_is_read_once_and_refreshed_on_demand(api_client_for, user, fake_introspect):
    source = make_source(name="Shop", url=PG_URL)
    client = api_client_for(user)
    first = client.get(f"{detail(source)}/schema")
    assert first.status_code == 200, first.content
    assert first.json()["data"]["cached"] is False
    assert first.json()["data"]["schema"]["tables"][0]["name"] == "t"
    assert fake_introspect[0].url == PG_URL and fake_introspect[0].id == str(source.pk)
    second = client.get(f"{detail(source)}/schema").json()["data"]
    assert second["cached"] is True and len(fake_introspect) == 1
    refreshed = client.get(f"{detail(source)}/schema", {"refresh": "true"}).json()["data"]
    assert refreshed["cached"] is False and refreshed["schema"]["tables"][0]["rows"] == 2
    assert PASSWORD not in first.content.decode()


def test_a_bad_refresh_value_is_422(api_client_for, user, fake_introspect):
    source = make_source(name="Shop", url=PG_URL)
    response = api_client_for(user).get(f"{detail(source)}/schema", {"refresh": "maybe"})
    assert response.status_code == 422 and "refresh" in response.json()["error"]["details"]
    assert fake_introspect == []


def test_a_data_source_that_does_not_answer_is_503_without_details(api_client_for, user, monkeypatch):
    import sys
    import types

    def introspect(spec):
        raise OSError(f"could not reach {spec.url}")

    monkeypatch.setitem(sys.modules, "agent.sql.introspect", types.SimpleNamespace(introspect=introspect))
    source = make_source(name="Shop", url=PG_URL)
    response = api_client_for(user).get(f"{detail(source)}/schema")
    assert response.status_code == 503 and response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert PASSWORD not in response.content.decode() and "OSError" not in response.content.decode()
