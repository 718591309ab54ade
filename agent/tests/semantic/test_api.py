"""``agent/semantic/*``: who reads and who writes, what a normal user may not see, the audit rows, the scan over
HTTP, 422 per field and 409 for a name in use."""

import pytest

from accounts.models import AuditLog
from agent.models import DescribedBy, SemanticMetric, SemanticTable

from .conftest import sync

pytestmark = pytest.mark.django_db

BASE = "/api/v1/agent/semantic"


@pytest.fixture
def scanned(demo_source):
    sync(demo_source)
    return demo_source


def table(source, name: str) -> SemanticTable:
    return SemanticTable.objects.get(data_source=source, name=name)


def test_a_normal_user_reads_the_layer_in_the_list_envelope(api_client_for, user, scanned):
    client = api_client_for(user)
    data = client.get(f"{BASE}/tables", {"data_source": str(scanned.pk)}).json()["data"]
    assert data["total"] == 5 and [t["name"] for t in data["tables"]][:2] == ["customers", "employees"]
    columns = client.get(f"{BASE}/columns", {"table": "orders", "per_page": 100}).json()["data"]["columns"]
    status = next(c for c in columns if c["name"] == "status")
    assert status["table"] == "orders" and status["type"] == "TEXT" and len(status["sample_values"]) == 4
    rels = client.get(f"{BASE}/relationships", {"table": "customers"}).json()["data"]["relationships"]
    assert [r["key"] for r in rels] == ["orders(customer_id)->customers(id)"]
    assert client.get(f"{BASE}/tables", {"state": "gone"}).status_code == 422


def test_a_normal_user_cannot_write_and_each_refusal_is_audited(api_client_for, user, scanned):
    client = api_client_for(user)
    orders = table(scanned, "orders")
    attempts = [
        client.patch(f"{BASE}/tables/{orders.pk}", {"description": "mine"}, format="json"),
        client.delete(f"{BASE}/tables/{orders.pk}"),
        client.post(f"{BASE}/terms", {"data_source": str(scanned.pk), "term": "t", "definition": "d"}, format="json"),
        client.post(f"{BASE}/sync", {}, format="json"),
    ]
    assert [r.status_code for r in attempts] == [403, 403, 403, 403]
    assert {r.json()["error"]["code"] for r in attempts} == {"PERMISSION_DENIED"}
    denied = AuditLog.objects.filter(action="permission.denied", username=user.username)
    assert denied.count() == 4 and all(row.details["permission"] == "admin_tools" for row in denied)
    orders.refresh_from_db()
    assert orders.description == "" and not AuditLog.objects.filter(action="semantic.update").exists()


def test_a_superuser_describes_a_table_audited_and_marked_human(api_client_for, superuser, scanned):
    orders = table(scanned, "orders")
    response = api_client_for(superuser).patch(
        f"{BASE}/tables/{orders.pk}",
        {"description": "One row per order", "synonyms": ["sales", " Sales ", "purchases"]},
        format="json",
    )
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["described_by"] == DescribedBy.HUMAN and data["synonyms"] == ["sales", "purchases"]
    row = AuditLog.objects.get(action="semantic.update")
    assert row.username == superuser.username and row.resource_id == str(orders.pk)
    assert row.details["operation"] == "update"
    assert row.details["changes"]["description"] == {"old": "", "new": "One row per order"}
    sync(scanned)  # a later scan leaves the person's words alone
    orders.refresh_from_db()
    assert (orders.description, orders.described_by) == ("One row per order", DescribedBy.HUMAN)


def test_a_table_hidden_from_a_role_is_404_with_its_columns_and_metrics(api_client_for, admin, user, scanned):
    employees = table(scanned, "employees")
    admin_client = api_client_for(admin)
    hide = admin_client.patch(f"{BASE}/tables/{employees.pk}", {"visible_to": ["admin", "superuser"]}, format="json")
    assert hide.status_code == 200 and hide.json()["data"]["visible_to"] == ["admin", "superuser"]
    metric = admin_client.post(
        f"{BASE}/metrics",
        {"data_source": str(scanned.pk), "name": "payroll", "expression": "SUM(salary)", "table": "employees"},
        format="json",
    )
    assert metric.status_code == 201, metric.content
    salary = employees.columns.get(name="salary")
    client = api_client_for(user)
    names = [t["name"] for t in client.get(f"{BASE}/tables").json()["data"]["tables"]]
    assert "employees" not in names and len(names) == 4
    assert client.get(f"{BASE}/tables/{employees.pk}").json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert client.get(f"{BASE}/columns/{salary.pk}").status_code == 404
    assert client.get(f"{BASE}/metrics/{metric.json()['data']['id']}").status_code == 404
    assert client.get(f"{BASE}/metrics").json()["data"]["total"] == 0
    found = client.get(f"{BASE}/search", {"q": "employee salary payroll"}).json()["data"]["results"]
    assert all("employee" not in (r["table"] or r["name"]) for r in found)
    assert admin_client.get(f"{BASE}/columns/{salary.pk}").status_code == 200


def test_metrics_are_checked_on_save(api_client_for, admin, scanned):
    client = api_client_for(admin)

    def create(**fields):
        body = {"data_source": str(scanned.pk), "name": "revenue", "expression": "SUM(total)", "table": "orders"}
        return client.post(f"{BASE}/metrics", {**body, **fields}, format="json")

    for fields, field in (
        ({"table": "invoices"}, "table"),
        ({"expression": "SUM(total) FROM orders; DELETE FROM orders"}, "expression"),
        ({"expression": "(SELECT max(total) FROM orders)"}, "expression"),
        ({"expression": "load_extension('x')"}, "expression"),
        ({"expression": "SUM(amount)"}, "expression"),
        ({"filters": ["status = 'x'; DROP TABLE orders"]}, "filters"),
        ({"data_source": "00000000-0000-4000-8000-000000000000"}, "data_source"),
    ):
        response = create(**fields)
        assert response.status_code == 422, (fields, response.content)
        assert field in response.json()["error"]["details"], (fields, response.json())
    created = create(filters=["status <> 'cancelled'"], synonyms=["sales"])
    assert created.status_code == 201, created.content
    data = created.json()["data"]
    assert data["sql"] == "SELECT SUM(total) AS value FROM \"orders\" WHERE status <> 'cancelled'"
    assert create(name="Revenue").json()["error"]["code"] == "CONFLICT"
    row = AuditLog.objects.get(action="semantic.update", resource_id=data["id"])
    assert row.details["operation"] == "create" and row.details["values"]["expression"] == "SUM(total)"
    changed = client.patch(f"{BASE}/metrics/{data['id']}", {"expression": "AVG(total)"}, format="json")
    assert changed.json()["data"]["sql"].startswith("SELECT AVG(total) AS value")
    assert client.patch(f"{BASE}/metrics/{data['id']}", {"table": "nope"}, format="json").status_code == 422
    assert client.delete(f"{BASE}/metrics/{data['id']}").status_code == 200
    assert not SemanticMetric.objects.filter(pk=data["id"]).exists()
    assert AuditLog.objects.filter(action="semantic.update", details__operation="delete").count() == 1


def test_terms_and_declared_relationships(api_client_for, admin, scanned):
    client = api_client_for(admin)
    term = client.post(
        f"{BASE}/terms",
        {"data_source": str(scanned.pk), "term": "Churned customer", "definition": "No order in 12 months"},
        format="json",
    )
    assert term.status_code == 201, term.content
    again = {"data_source": str(scanned.pk), "term": "churned  customer", "definition": "x"}
    assert client.post(f"{BASE}/terms", again, format="json").status_code == 409
    body = {
        "data_source": str(scanned.pk),
        "from_table": "employees",
        "from_columns": ["department"],
        "to_table": "products",
        "to_columns": ["nope"],
    }
    bad = client.post(f"{BASE}/relationships", body, format="json")
    assert bad.status_code == 422 and "to_columns" in bad.json()["error"]["details"]
    made = client.post(f"{BASE}/relationships", {**body, "to_columns": ["category"]}, format="json")
    assert made.status_code == 201 and made.json()["data"]["origin"] == "human"
    assert made.json()["data"]["key"] == "employees(department)->products(category)"
    extra = client.patch(f"{BASE}/relationships/{made.json()['data']['id']}", {"to_table": "x"}, format="json")
    assert extra.status_code == 422 and "to_table" in extra.json()["error"]["details"]


def test_sync_over_http_answers_the_drift_report(api_client_for, admin, demo_source):
    response = api_client_for(admin).post(f"{BASE}/sync", {"data_source": str(demo_source.pk)}, format="json")
    assert response.status_code == 200, response.content
    report = response.json()["data"]
    assert report["first_sync"] is True and len(report["tables"]["added"]) == 5
    assert report["data_source"] == {"id": str(demo_source.pk), "name": "demo"}
    again = api_client_for(admin).post(f"{BASE}/sync", content_type="application/json")  # the default source
    assert again.status_code == 200 and again.json()["data"]["first_sync"] is False
    row = AuditLog.objects.filter(action="semantic.sync").latest("timestamp")
    assert row.username == admin.username


def test_sync_of_a_source_that_does_not_answer_is_503(api_client_for, admin, shop, shop_path):
    shop_path.unlink()
    response = api_client_for(admin).post(f"{BASE}/sync", {"data_source": str(shop.pk)}, format="json")
    assert response.status_code == 503 and response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert response.headers["Retry-After"] and str(shop_path) not in response.content.decode()
