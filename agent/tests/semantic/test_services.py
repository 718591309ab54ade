"""People's writes on the semantic layer (services and admin pages): only ``admin_tools``, audited, checked with
the API's rules; a description written by a person is marked ``human``."""

import pytest
from django.test import Client

from accounts.models import AuditLog
from agent.models import DescribedBy, SemanticColumn, SemanticMetric, SemanticTable, SemanticTerm
from agent.services.semantic import clean_synonyms, semantic_entry_delete, semantic_entry_update
from majed_vanna.exceptions import PermissionDeniedError, ValidationFailedError

from .conftest import sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop_scanned(shop):
    sync(shop)
    return shop


def orders(source) -> SemanticTable:
    return SemanticTable.objects.get(data_source=source, name="orders")


def test_only_admin_tools_write_and_a_refusal_is_audited(shop_scanned, user):
    with pytest.raises(PermissionDeniedError):
        semantic_entry_update(entry=orders(shop_scanned), actor=user, description="mine")
    assert AuditLog.objects.get(action="permission.denied", username=user.username).details == {"operation": ""}
    assert orders(shop_scanned).description == ""


def test_descriptions_mark_who_wrote_them(shop_scanned, superuser):
    table = semantic_entry_update(entry=orders(shop_scanned), actor=superuser, description="  Orders  ")
    assert (table.description, table.described_by) == ("Orders", DescribedBy.HUMAN)
    table = semantic_entry_update(entry=table, actor=superuser, description="")
    assert table.described_by == DescribedBy.NOBODY
    assert AuditLog.objects.filter(action="semantic.update").count() == 2
    semantic_entry_update(entry=table, actor=superuser, description="")  # nothing changed: no audit row
    assert AuditLog.objects.filter(action="semantic.update").count() == 2
    with pytest.raises(ValidationFailedError) as refused:
        semantic_entry_update(entry=table, actor=superuser, name="other", kind="view")
    assert set(refused.value.details) == {"name", "kind"}
    with pytest.raises(ValidationFailedError):
        semantic_entry_update(entry=table, actor=superuser, visible_to=["admin", "root"])


def test_synonyms_are_cleaned_and_bounded():
    assert clean_synonyms([" Sales ", "sales", "", "gross  revenue"]) == ["Sales", "gross revenue"]
    with pytest.raises(ValidationFailedError):
        clean_synonyms([f"s{i}" for i in range(51)])


def test_deleting_a_table_takes_its_columns_and_is_audited(shop_scanned, admin):
    table = orders(shop_scanned)
    semantic_entry_delete(entry=table, actor=admin)
    assert not SemanticColumn.objects.filter(table_id=table.pk).exists()
    row = AuditLog.objects.get(action="semantic.update")
    assert row.details["operation"] == "delete" and row.details["columns"] == 5
    report = sync(shop_scanned)  # still in the data source: the next scan brings it back, undescribed
    assert report["tables"]["added"] == ["orders"]


def staff(admin) -> Client:
    client = Client()
    client.force_login(admin)
    return client


def test_admin_pages_describe_tables_and_add_metrics_through_the_services(shop_scanned, admin):
    client = staff(admin)
    table = orders(shop_scanned)
    assert client.get("/admin/agent/semantictable/").status_code == 200
    assert client.get("/admin/agent/semantictable/add/").status_code == 403  # the scan adds tables
    response = client.post(
        f"/admin/agent/semantictable/{table.pk}/change/",
        {"description": "Orders placed", "synonyms": "sales, purchases", "visible_to": ["admin", "normal"]},
    )
    assert response.status_code == 302, response.content.decode()[-9000:]
    table.refresh_from_db()
    assert (table.description, table.synonyms, table.visible_to) == (
        "Orders placed",
        ["sales", "purchases"],
        ["admin", "normal"],
    )
    assert AuditLog.objects.get(action="semantic.update").username == admin.username

    add = "/admin/agent/semanticmetric/add/"
    form = {"data_source": shop_scanned.pk, "name": "revenue", "expression": "SUM(total)", "table": "orders"}
    bad = client.post(add, {**form, "expression": "SUM(total); DROP TABLE orders"})
    assert bad.status_code == 200 and "one SQL expression" in bad.content.decode()
    assert not SemanticMetric.objects.exists() and AuditLog.objects.filter(action="semantic.update").count() == 1
    good = client.post(add, {**form, "filters": "status <> 'cancelled'\n", "synonyms": "sales"})
    assert good.status_code == 302, good.content.decode()[:3000]
    metric = SemanticMetric.objects.get()
    assert (metric.filters, metric.synonyms) == (["status <> 'cancelled'"], ["sales"])
    assert AuditLog.objects.filter(action="semantic.update", details__operation="create").count() == 1

    term = client.post(
        "/admin/agent/semanticterm/add/", {"data_source": shop_scanned.pk, "term": "churn", "definition": "Lost"}
    )
    assert term.status_code == 302 and SemanticTerm.objects.get().term == "churn"
    duplicate = client.post(
        "/admin/agent/semanticterm/add/", {"data_source": shop_scanned.pk, "term": "Churn", "definition": "x"}
    )
    assert duplicate.status_code == 200 and "Already in use" in duplicate.content.decode()
