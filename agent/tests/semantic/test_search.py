"""Ranking (``GET agent/semantic/search``, the prompt's context) and the seams the agent uses:
``semantic_context`` (relevant entries as bounded prompt text, with their ids) and ``semantic_visible_tables``."""

import pytest

from agent import selectors
from agent.knowledge.semantic_search import Bm25, Document, stem, terms
from agent.models import SemanticColumn, SemanticTable
from agent.services.semantic import semantic_entry_update, semantic_metric_create, semantic_term_create

from .conftest import alter, sync

pytestmark = pytest.mark.django_db
SEARCH = "/api/v1/agent/semantic/search"


def test_stems_and_terms():
    assert [stem(w) for w in ("categories", "statuses", "orders", "boxes", "status", "analysis")] == [
        "category",
        "status",
        "order",
        "box",
        "status",
        "analysis",
    ]
    assert terms("How many order_items per Category?") == ["order", "item", "category"]


def test_bm25_prefers_names_and_rare_words():
    docs = [
        Document("orders", ["orders"], ["One row per order placed by a customer"]),
        Document("customers", ["customers", "clients"], ["People who ordered"]),
        Document("status", ["status"], ["orders", "pending", "shipped"]),
    ]
    index = Bm25(docs)
    assert [hit.item for hit in index.search("clients")] == ["customers"]
    assert index.search("shipped orders")[0].item in ("status", "orders")
    assert index.search("which status")[0].item == "status"
    assert index.search("the of and") == [] and index.search("unrelated words") == []


@pytest.fixture
def described(demo_source, admin):
    sync(demo_source)
    orders = SemanticTable.objects.get(data_source=demo_source, name="orders")
    semantic_entry_update(entry=orders, actor=admin, description="One row per order", synonyms=["purchases"])
    customers = SemanticTable.objects.get(data_source=demo_source, name="customers")
    semantic_entry_update(entry=customers, actor=admin, synonyms=["clients", "buyers"])
    status = SemanticColumn.objects.get(table=orders, name="status")
    semantic_entry_update(entry=status, actor=admin, description="Where the order is in its life", synonyms=["state"])
    semantic_metric_create(
        actor=admin,
        data_source=demo_source,
        name="revenue",
        synonyms=["turnover", "sales"],
        description="Money from orders that were not cancelled",
        expression="SUM(total)",
        table="orders",
        filters=["status <> 'cancelled'"],
    )
    semantic_term_create(
        actor=admin,
        data_source=demo_source,
        term="big spender",
        definition="A customer whose orders total more than 5000",
        synonyms=["whale"],
    )
    return demo_source


def test_search_ranks_by_relevance_over_synonyms(api_client_for, user, described):
    client = api_client_for(user)

    def top(q: str, **params) -> dict:
        results = client.get(SEARCH, {"q": q, **params}).json()["data"]["results"]
        assert results, q
        return results[0]

    assert (top("total turnover last year")["kind"], top("total turnover last year")["name"]) == ("metric", "revenue")
    assert top("our clients")["name"] == "customers"
    assert (top("order state")["kind"], top("order state")["name"]) == ("column", "status")
    assert top("whales")["name"] == "big spender"
    assert top("purchases", kind="table")["name"] == "orders"
    response = client.get(SEARCH, {"q": "orders", "per_page": 1})
    data = response.json()["data"]
    assert data["per_page"] == 1 and data["has_next"] is True and data["results"][0]["score"] > 0
    assert client.get(SEARCH).json()["data"]["results"] == []
    assert client.get(SEARCH, {"q": "zebra crossing"}).json()["data"]["total"] == 0


def test_removed_entries_are_not_found(api_client_for, admin, shop, shop_path):
    sync(shop)
    alter(shop_path, "DROP TABLE refunds;")
    sync(shop)
    found = api_client_for(admin).get(SEARCH, {"q": "refunds amount"}).json()["data"]["results"]
    assert all("refunds" not in (r["table"] or r["name"]) for r in found)


def test_semantic_context_gives_the_relevant_entries_as_bounded_text_with_ids(described):
    context = selectors.semantic_context(described, "What was our turnover from clients in 2024?")
    assert "revenue (also called: turnover, sales)" in context.text
    assert "SELECT SUM(total) AS value FROM \"orders\" WHERE status <> 'cancelled'" in context.text
    assert "- customers (also called: clients, buyers)" in context.text
    assert "big spender" not in context.text  # not about this question
    assert len(context.ids) == 2 and len(set(context.ids)) == 2
    status = selectors.semantic_context(described, "how many orders per status")
    assert "orders.status (also called: state): Where the order is in its life; values: " in status.text
    small = selectors.semantic_context(described, "turnover of clients", limit_chars=200)
    assert len(small.text) <= 200 and len(small.ids) == 1
    assert selectors.semantic_context(described, "zebra crossing") == selectors.SemanticContext("", [])


def test_the_context_and_the_visible_tables_respect_a_role(described, admin):
    assert selectors.semantic_visible_tables(described, "normal") == [
        "customers",
        "employees",
        "order_items",
        "orders",
        "products",
    ]
    orders = SemanticTable.objects.get(data_source=described, name="orders")
    semantic_entry_update(entry=orders, actor=admin, visible_to=["admin"])
    assert "orders" not in selectors.semantic_visible_tables(described, "normal")
    assert "orders" in selectors.semantic_visible_tables(described, "admin")
    assert selectors.semantic_hidden_tables(described, "normal") == ["orders"]
    hidden = selectors.semantic_context(described, "turnover by order state", role="normal")
    assert "revenue" not in hidden.text and "orders.status" not in hidden.text
    assert "revenue" in selectors.semantic_context(described, "turnover by order state", role="admin").text


def test_a_source_never_scanned_restricts_nothing(shop):
    assert selectors.semantic_visible_tables(shop, "normal") is None
    assert selectors.semantic_hidden_tables(shop, "normal") == []


def test_the_layers_synonyms_for_retrieval(described):
    assert selectors.semantic_synonyms(described) == {
        "orders": ["purchases"],
        "customers": ["clients", "buyers"],
        "status": ["state"],
        "revenue": ["turnover", "sales"],
        "big spender": ["whale"],
    }
    assert selectors.semantic_synonyms(None) == {}


def test_an_edit_is_seen_by_the_next_question(described, admin):
    assert "lifetime" not in selectors.semantic_context(described, "customer lifetime").text
    customers = SemanticTable.objects.get(data_source=described, name="customers")
    semantic_entry_update(entry=customers, actor=admin, synonyms=["lifetime buyers"])
    assert "customers (also called: lifetime buyers)" in selectors.semantic_context(described, "customer lifetime").text
    semantic_entry_update(entry=customers, actor=admin, visible_to=["admin"])
    assert "customers" not in selectors.semantic_context(described, "customer lifetime", role="normal").text
