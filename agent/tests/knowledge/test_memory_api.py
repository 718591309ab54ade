"""``agent/memory`` through the API: privacy between users, the lifecycle, the gate on save, duplicates merged,
import/export, and drift-flagged memories never silently used."""

import pytest
from asgiref.sync import sync_to_async

from accounts.models import AuditLog
from accounts.tests.factories import UserFactory
from agent.models import Memory, MemoryStatus
from agent.tests.chat.conftest import ask

from .conftest import SHIPPED, SHIPPED_SQL

MEMORY = "/api/v1/agent/memory"
pytestmark = pytest.mark.django_db


@pytest.fixture
def as_(api_client_for):
    return api_client_for


def saved(client, **body):
    response = client.post(MEMORY, {"kind": "question_sql", **body}, format="json")
    assert response.status_code in (200, 201), response.content
    return response.json()["data"]


def ids(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {m["id"] for m in response.json()["data"]["memories"]}


def test_another_users_private_memory_is_invisible_everywhere(shop_source, as_):
    a, b = UserFactory(role="admin"), UserFactory(role="admin")
    client_a, client_b = as_(a), as_(b)
    private = saved(
        client_a, question=SHIPPED, sql=SHIPPED_SQL, data_source=str(shop_source.pk), scope="private", status="approved"
    )
    shared = saved(
        client_a,
        question="Which customers exist?",
        sql="SELECT name FROM customers",
        data_source=str(shop_source.pk),
        status="approved",
    )
    assert private["owner"] == {"type": "user", "id": str(a.pk)}

    assert ids(client_a.get(MEMORY)) == {private["id"], shared["id"]}
    assert ids(client_b.get(MEMORY)) == {shared["id"]}
    assert client_b.get(f"{MEMORY}/{private['id']}").status_code == 404
    assert client_b.patch(f"{MEMORY}/{private['id']}", {"content": "x"}, format="json").status_code == 404
    assert client_b.delete(f"{MEMORY}/{private['id']}").status_code == 404
    exported = client_b.get(f"{MEMORY}/export").json()["data"]["memories"]
    assert [m["question"] for m in exported] == ["Which customers exist?"]
    search = {"query": "how many orders were shipped", "data_source": str(shop_source.pk)}
    found_b = client_b.post(f"{MEMORY}/search", search, format="json").json()["data"]["results"]
    assert private["id"] not in {r["id"] for r in found_b}
    found_a = client_a.post(f"{MEMORY}/search", search, format="json").json()["data"]["results"]
    assert found_a[0]["id"] == private["id"] and found_a[0]["sql"] == SHIPPED_SQL and found_a[0]["score"] > 0
    assert client_b.get(f"{MEMORY}/stats").json()["data"]["by_scope"] == {"global": 1, "private": 0}
    # the same memory under B's name is B's own, not a merge into A's
    own_b = saved(client_b, question=SHIPPED, sql=SHIPPED_SQL, data_source=str(shop_source.pk), scope="private")
    assert own_b["id"] != private["id"]


@pytest.mark.django_db(transaction=True)
async def test_another_users_private_memory_never_answers(shop_source, offline, as_):
    a, b = await sync_to_async(UserFactory)(role="admin"), await sync_to_async(UserFactory)(role="admin")
    body = {"question": SHIPPED, "sql": SHIPPED_SQL, "data_source": str(shop_source.pk), "scope": "private"}
    private = await sync_to_async(saved)(await sync_to_async(as_)(a), **body, status="approved")
    mine = await ask(a, SHIPPED, data_source=str(shop_source.pk))
    assert mine["lineage"]["matched_question"]["memory_id"] == private["id"]
    theirs = await ask(b, SHIPPED, data_source=str(shop_source.pk))
    assert (theirs["lineage"]["matched_question"] or {}).get("memory_id") != private["id"]
    assert private["id"] not in theirs["lineage"]["memories"]


def test_normal_users_read_approved_global_memories_only_and_never_write(shop_source, user, admin, as_):
    draft = saved(as_(admin), question="Draft?", sql="SELECT 1", data_source=str(shop_source.pk))
    approved = saved(
        as_(admin), question="Approved?", sql="SELECT 2", data_source=str(shop_source.pk), status="approved"
    )
    assert ids(as_(user).get(MEMORY)) == {approved["id"]}
    assert as_(user).get(f"{MEMORY}/{draft['id']}").status_code == 404
    refused = as_(user).post(MEMORY, {"kind": "text", "content": "x"}, format="json")
    assert refused.status_code == 403
    assert ids(as_(admin).get(MEMORY, {"status": "draft"})) == {draft["id"]}


def test_lifecycle_draft_approved_retired(shop_source, user, admin, as_):
    client = as_(admin)
    memory = saved(client, question=SHIPPED, sql=SHIPPED_SQL, data_source=str(shop_source.pk))
    assert memory["status"] == "draft"
    assert as_(user).post(f"{MEMORY}/{memory['id']}/approve").status_code == 403
    approved = client.post(f"{MEMORY}/{memory['id']}/approve")
    assert approved.status_code == 200 and approved.json()["data"]["status"] == "approved"
    assert client.post(f"{MEMORY}/{memory['id']}/approve").status_code == 409
    search = {"query": "shipped orders count", "data_source": str(shop_source.pk)}
    assert as_(user).post(f"{MEMORY}/search", search, format="json").json()["data"]["results"][0]["id"] == memory["id"]
    retired = client.post(f"{MEMORY}/{memory['id']}/retire")
    assert retired.status_code == 200 and retired.json()["data"]["status"] == "retired"
    assert client.post(f"{MEMORY}/{memory['id']}/retire").status_code == 409
    assert as_(user).post(f"{MEMORY}/search", search, format="json").json()["data"]["results"] == []
    actions = list(AuditLog.objects.filter(resource_id=memory["id"]).order_by("id").values_list("action", flat=True))
    assert actions == ["memory.create", "memory.approve", "memory.retire"]


def test_the_gate_refuses_a_writing_sql_on_save(shop_source, admin, as_):
    client = as_(admin)
    body = {
        "kind": "question_sql",
        "question": "Drop it",
        "sql": "DROP TABLE orders",
        "data_source": str(shop_source.pk),
    }
    refused = client.post(MEMORY, body, format="json")
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["details"]["rule"] and error["details"]["rule"] in error["details"]["sql"][0]
    assert not Memory.objects.exists()
    memory = saved(client, question=SHIPPED, sql=SHIPPED_SQL, data_source=str(shop_source.pk))
    changed = client.patch(f"{MEMORY}/{memory['id']}", {"sql": "DELETE FROM orders"}, format="json")
    assert changed.status_code == 422
    assert Memory.objects.get().sql == SHIPPED_SQL
    missing = client.post(MEMORY, {"kind": "question_sql", "question": "Q?"}, format="json")
    assert missing.status_code == 422 and "sql" in missing.json()["error"]["details"]


def test_a_duplicate_question_updates_the_memory_that_holds_it(shop_source, admin, as_):
    client = as_(admin)
    first = saved(client, question=SHIPPED, sql="SELECT count(*) FROM orders", data_source=str(shop_source.pk))
    again = client.post(
        MEMORY,
        {
            "kind": "question_sql",
            "question": "  how many ORDERS have shipped ",
            "sql": SHIPPED_SQL,
            "data_source": str(shop_source.pk),
        },
        format="json",
    )
    assert again.status_code == 200 and again.json()["data"]["id"] == first["id"]
    assert list(Memory.objects.values_list("sql", flat=True)) == [SHIPPED_SQL]


def test_export_then_import_round_trips_all_or_nothing(shop_source, admin, as_):
    client = as_(admin)
    saved(client, question=SHIPPED, sql=SHIPPED_SQL, data_source=str(shop_source.pk), status="approved")
    client.post(MEMORY, {"kind": "text", "content": "Totals are in euros.", "tags": ["money"]}, format="json")
    client.post(
        MEMORY, {"kind": "ddl", "content": "CREATE TABLE orders (id INTEGER)", "scope": "private"}, format="json"
    )
    exported = client.get(f"{MEMORY}/export").json()["data"]
    assert len(exported["memories"]) == 3
    Memory.objects.all().delete()

    bad = {
        "memories": [
            *exported["memories"],
            {"kind": "question_sql", "question": "x", "sql": "DROP TABLE orders", "data_source": "shop"},
        ]
    }
    refused = client.post(f"{MEMORY}/import", bad, format="json")
    assert refused.status_code == 422 and "items[3].sql" in refused.json()["error"]["details"]
    assert not Memory.objects.exists()  # nothing, not the first three

    imported = client.post(f"{MEMORY}/import", exported, format="json")
    assert imported.status_code == 201 and imported.json()["data"] == {"created": 3, "merged": 0}
    assert client.get(f"{MEMORY}/export").json()["data"] == exported
    assert client.post(f"{MEMORY}/import", exported["memories"], format="json").json()["data"]["merged"] == 1
    assert AuditLog.objects.filter(action="memory.import").count() == 2
    stats = client.get(f"{MEMORY}/stats").json()["data"]
    assert stats["by_kind"] == {"question_sql": 1, "text": 2, "ddl": 2}  # text/ddl notes are not merged
    assert stats["total"] == 5 and stats["flagged"] == 0


@pytest.mark.django_db(transaction=True)
async def test_a_drift_flagged_memory_does_not_answer(shop_source, offline, user):
    memory = await Memory.objects.acreate(
        kind="question_sql", question=SHIPPED, sql=SHIPPED_SQL, data_source=shop_source, status=MemoryStatus.APPROVED
    )
    used = await ask(user, SHIPPED, data_source=str(shop_source.pk))
    assert used["lineage"]["matched_question"]["memory_id"] == str(memory.pk)
    memory.flagged = "column orders.status was removed"
    await memory.asave()
    unused = await ask(user, SHIPPED, data_source=str(shop_source.pk))
    assert (unused["lineage"]["matched_question"] or {}).get("memory_id") != str(memory.pk)
    assert str(memory.pk) not in unused["lineage"]["memories"]
