"""The schema scan: entries created from the live data source, bounded sample values, foreign keys as
relationships, and drift (added, removed, changed) that keeps what people wrote and flags what it breaks."""

import hashlib

import pytest

from accounts.models import AuditLog
from agent.knowledge.semantic_drift import DRIFT_FLAG
from agent.models import (
    DescribedBy,
    DriftState,
    Memory,
    MemoryKind,
    MemoryStatus,
    SemanticColumn,
    SemanticRelationship,
    SemanticTable,
)
from agent.services.semantic import semantic_entry_update, semantic_metric_create
from majed_vanna.exceptions import ServiceUnavailableError

from .conftest import alter, sync

pytestmark = pytest.mark.django_db

DEMO_TABLES = ["customers", "employees", "order_items", "orders", "products"]


def column(source, table: str, name: str) -> SemanticColumn:
    return SemanticColumn.objects.get(data_source=source, table__name=table, name=name)


def test_the_first_scan_of_the_demo_creates_every_entry_with_values_and_joins(demo_source):
    lines = []
    report = sync(demo_source, progress=lines.append)
    assert report["first_sync"] is True
    assert sorted(report["tables"]["added"]) == DEMO_TABLES
    assert report["columns"] == {"added": [], "removed": [], "changed": []}  # a new table's columns are not listed
    tables = SemanticTable.objects.filter(data_source=demo_source)
    assert sorted(tables.values_list("name", flat=True)) == DEMO_TABLES
    assert all(t.state == DriftState.PRESENT and t.description == "" for t in tables)
    orders = [c.name for c in SemanticColumn.objects.filter(table__name="orders").order_by("name")]
    assert orders == ["customer_id", "employee_id", "id", "ordered_at", "status", "total"]
    # Low-cardinality text columns keep their values (most frequent first); the others keep none.
    assert sorted(column(demo_source, "orders", "status").sample_values) == [
        "cancelled",
        "delivered",
        "pending",
        "shipped",
    ]
    assert len(column(demo_source, "products", "category").sample_values) == 8
    assert len(column(demo_source, "employees", "department").sample_values) == 5
    assert column(demo_source, "customers", "name").sample_values == []  # 800 distinct names
    assert column(demo_source, "orders", "total").sample_values == []  # not text: not scanned
    keys = sorted(SemanticRelationship.objects.filter(data_source=demo_source).values_list("key", flat=True))
    assert keys == [
        "order_items(order_id)->orders(id)",
        "order_items(product_id)->products(id)",
        "orders(customer_id)->customers(id)",
        "orders(employee_id)->employees(id)",
    ]
    assert sorted(report["relationships"]["added"]) == keys
    assert report["sample_values"]["recorded"] >= 4
    assert "Reading the schema of demo" in lines and any(line.startswith("  orders: 6 columns") for line in lines)
    row = AuditLog.objects.get(action="semantic.sync")
    assert row.resource_id == str(demo_source.pk) and row.username == "test"
    assert row.details["tables"]["added"]["count"] == 5 and row.success


def test_a_second_scan_of_an_unchanged_source_reports_no_drift(demo_source):
    sync(demo_source)
    report = sync(demo_source)
    assert report["first_sync"] is False
    for group in ("tables", "columns"):
        assert report[group] == {"added": [], "removed": [], "changed": []}
    assert report["relationships"] == {"added": [], "removed": []}
    assert report["flagged"] == {"metrics": [], "memories": []}
    assert SemanticTable.objects.filter(data_source=demo_source).count() == 5
    assert AuditLog.objects.filter(action="semantic.sync").count() == 2


def test_sample_values_are_bounded(shop, shop_path):
    alter(
        shop_path,
        """
        CREATE TABLE codes (id INTEGER PRIMARY KEY, twenty TEXT, twenty_one TEXT, long_text TEXT, password TEXT);
        """
        + "".join(
            f"INSERT INTO codes VALUES ({i}, 'v{i % 20:02d}', 'w{i % 21:02d}', '{'x' * 200}{i % 2}', 'pw{i % 2}');"
            for i in range(42)
        ),
    )
    sync(shop)
    assert len(column(shop, "codes", "twenty").sample_values) == 20  # exactly the bound: kept
    assert column(shop, "codes", "twenty_one").sample_values == []  # one more: not low-cardinality
    assert [len(v) for v in column(shop, "codes", "long_text").sample_values] == [80, 80]
    assert column(shop, "codes", "password").sample_values == []  # a secret's name: never read
    assert column(shop, "customers", "secret_token").sample_values == []
    assert sorted(column(shop, "customers", "segment").sample_values) == ["online", "retail", "wholesale"]


def test_hostile_column_names_are_quoted_identifiers_and_the_file_is_unchanged(shop, shop_path):
    alter(
        shop_path,
        'CREATE TABLE "odd""table" ("kind""; DROP TABLE orders; --" TEXT, "x) FROM orders; --" TEXT);'
        """INSERT INTO "odd""table" VALUES ('a', 'b'), ('a', 'c');""",
    )
    before = hashlib.sha256(shop_path.read_bytes()).hexdigest()
    report = sync(shop)
    assert report["sample_values"]["skipped"] == []
    assert hashlib.sha256(shop_path.read_bytes()).hexdigest() == before
    assert column(shop, 'odd"table', 'kind"; DROP TABLE orders; --').sample_values == ["a"]
    assert sorted(column(shop, 'odd"table', "x) FROM orders; --").sample_values) == ["b", "c"]


def _memory(source, sql: str, question: str, **fields) -> Memory:
    fields.setdefault("status", MemoryStatus.APPROVED)
    return Memory.objects.create(kind=MemoryKind.QUESTION_SQL, question=question, sql=sql, data_source=source, **fields)


def test_drift_is_reported_descriptions_are_kept_and_broken_metrics_and_memories_are_flagged(shop, shop_path, admin):
    sync(shop)
    note = column(shop, "orders", "note")
    semantic_entry_update(entry=note, actor=admin, description="Free text the clerk typed", synonyms=["remark"])
    refunds = SemanticTable.objects.get(data_source=shop, name="refunds")
    semantic_entry_update(entry=refunds, actor=admin, description="Money given back")
    segment = column(shop, "customers", "segment")
    semantic_entry_update(entry=segment, actor=admin, description="Market segment")
    metric = semantic_metric_create(
        actor=admin, data_source=shop, name="noted orders", expression="COUNT(note)", table="orders", filters=[]
    )
    revenue = semantic_metric_create(
        actor=admin,
        data_source=shop,
        name="revenue",
        expression="SUM(total)",
        table="orders",
        filters=["status <> 'cancelled'"],
    )
    broken = _memory(shop, "SELECT o.note FROM orders AS o WHERE o.status = 'shipped'", "Notes of shipped orders")
    broken_table = _memory(shop, "SELECT sum(amount) FROM refunds", "Total refunded")
    fine = _memory(shop, "SELECT count(*) AS note FROM orders ORDER BY note", "How many orders")
    retired = _memory(shop, "SELECT note FROM orders", "Old one", status=MemoryStatus.RETIRED)
    other_flag = _memory(shop, "SELECT note FROM orders", "Flagged by a reviewer", flagged="Reviewer: wrong filter")

    alter(
        shop_path,
        """
        ALTER TABLE orders DROP COLUMN note;
        ALTER TABLE orders ADD COLUMN channel TEXT;
        DROP TABLE refunds;
        CREATE TABLE suppliers (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE customers_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL, segment INTEGER, email TEXT,
                                    secret_token TEXT);
        INSERT INTO customers_new SELECT id, name, 1, email, secret_token FROM customers;
        DROP TABLE customers;
        ALTER TABLE customers_new RENAME TO customers;
        """,
    )
    report = sync(shop)

    assert report["tables"]["added"] == ["suppliers"]
    assert report["tables"]["removed"] == ["refunds"]
    changed_tables = {item["name"]: item["changes"] for item in report["tables"]["changed"]}
    assert set(changed_tables) == {"customers", "orders"}
    assert "column channel added" in changed_tables["orders"] and "column note removed" in changed_tables["orders"]
    assert report["columns"]["added"] == ["orders.channel"]
    assert report["columns"]["removed"] == ["orders.note"]
    assert report["columns"]["changed"] == [{"name": "customers.segment", "changes": ["type TEXT -> INTEGER"]}]
    assert "refunds(order_id)->orders(id)" in report["relationships"]["removed"]
    assert sorted(report["kept_descriptions"]) == ["orders.note", "refunds"]

    # People's words survive: the entries stay, marked, with their descriptions.
    note.refresh_from_db()
    assert (note.state, note.description, note.synonyms) == (
        DriftState.REMOVED,
        "Free text the clerk typed",
        ["remark"],
    )
    assert note.described_by == DescribedBy.HUMAN
    refunds.refresh_from_db()
    assert (refunds.state, refunds.description) == (DriftState.REMOVED, "Money given back")
    assert column(shop, "refunds", "amount").state == DriftState.REMOVED
    segment.refresh_from_db()
    assert (segment.state, segment.data_type, segment.description) == (DriftState.CHANGED, "INTEGER", "Market segment")
    assert segment.sample_values == []  # no longer text: its old values are dropped
    assert SemanticTable.objects.get(data_source=shop, name="orders").state == DriftState.CHANGED

    # What the removals break is flagged, with the reason; the rest is not.
    flagged_metrics = {item["name"]: item["reason"] for item in report["flagged"]["metrics"]}
    assert flagged_metrics == {"noted orders": f"{DRIFT_FLAG}reads orders.note, which was removed from the data source"}
    metric.refresh_from_db()
    revenue.refresh_from_db()
    assert metric.flagged == flagged_metrics["noted orders"] and revenue.flagged == ""
    flagged_memories = {item["id"]: item["reason"] for item in report["flagged"]["memories"]}
    assert set(flagged_memories) == {str(broken.pk), str(broken_table.pk), str(other_flag.pk)}
    assert "refunds" in flagged_memories[str(broken_table.pk)]
    for memory, expected in (
        (broken, f"{DRIFT_FLAG}reads orders.note, which was removed from the data source"),
        (broken_table, f"{DRIFT_FLAG}reads the table refunds, which was removed from the data source"),
        (fine, ""),
        (retired, ""),
        (other_flag, "Reviewer: wrong filter"),  # someone else's flag is not overwritten
    ):
        memory.refresh_from_db()
        assert memory.flagged == expected, memory.question

    # The column comes back: its entry is present again, and the scan's own flags are cleared.
    alter(shop_path, "ALTER TABLE orders ADD COLUMN note TEXT;")
    report = sync(shop)
    assert report["columns"]["added"] == ["orders.note"]
    assert report["unflagged"]["metrics"] == [str(metric.pk)]
    assert report["unflagged"]["memories"] == [str(broken.pk)]
    metric.refresh_from_db()
    broken.refresh_from_db()
    assert metric.flagged == "" and broken.flagged == ""
    note.refresh_from_db()
    assert (note.state, note.description) == (DriftState.PRESENT, "Free text the clerk typed")


def test_a_source_that_does_not_answer_is_503_audited_and_changes_nothing(shop, shop_path):
    sync(shop)
    shop_path.unlink()
    with pytest.raises(ServiceUnavailableError):
        sync(shop)
    assert SemanticTable.objects.filter(data_source=shop, state=DriftState.PRESENT).count() == 3
    failed = AuditLog.objects.get(action="semantic.sync", success=False)
    assert failed.resource_id == str(shop.pk) and failed.error_message
