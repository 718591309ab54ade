"""The prompt the model gets (``agent.engine.prompt``): the schema bounded and relevant on a wide schema, whole on
the demo; the conversation's earlier turns; saved examples, whose ids land in the lineage."""

import re

import pytest
from asgiref.sync import sync_to_async

from agent.engine.prompt import MAX_OTHER_NAMES, MAX_SCHEMA_CHARS, schema_slice, words
from agent.models import Memory
from agent.models.knowledge import MemoryKind, MemoryScope, MemoryStatus
from agent.tests.factories import make_source

from ..chat.conftest import ask
from .script import COUNT_CUSTOMERS, llm_requests, say, system_prompt, tool_call
from .wide_schema import CORE, wide_snapshot, wide_sqlite

DEMO_TABLES = ("customers", "products", "employees", "orders", "order_items")


def shown_tables(schema_text: str) -> list[str]:
    return re.findall(r"^- ([\w.]+)\(", schema_text, flags=re.MULTILINE)


def schema_part(prompt: str) -> str:
    return prompt.split("\nSchema:\n", 1)[1].split("\nOther tables", 1)[0].split("\n\nSaved examples", 1)[0]


# --- the slice, on a 400-table schema (pure)
WIDE = wide_snapshot(400)


@pytest.mark.parametrize(
    "question, needed",
    [
        ("What is the total invoice amount per region?", {"sales_invoices", "customer_accounts", "regions"}),
        ("Which categories sell the most quantity?", {"product_categories", "invoice_lines", "catalog_items"}),
        ("How much stock does each warehouse hold?", {"warehouses", "stock_levels"}),
        ("Which customer accounts spent the most?", {"customer_accounts", "sales_invoices"}),
        ("Revenue by product category and region", {"product_categories", "regions", "catalog_items"}),
        ("Show qty on hand per city", {"stock_levels", "warehouses"}),
    ],
)
def test_a_wide_schema_is_cut_to_the_tables_that_matter(question, needed):
    schema, left_out = schema_slice(WIDE, question)
    assert len(schema) <= MAX_SCHEMA_CHARS
    shown = shown_tables(schema)
    assert needed <= set(shown), (question, shown[:12])
    assert set(shown) | set(left_out) == {t["name"] for t in WIDE["tables"]}
    assert not set(shown) & set(left_out)


def test_the_tables_that_matter_come_first():
    schema, _ = schema_slice(WIDE, "What is the total invoice amount per region?")
    first = shown_tables(schema)[:4]
    assert {"sales_invoices", "regions", "customer_accounts"} <= set(first), first  # the join table too


def test_a_tight_budget_keeps_the_matches_and_how_they_join():
    schema, _ = schema_slice(WIDE, "What is the total invoice amount per region?", limit=400)
    assert {"sales_invoices", "regions", "customer_accounts"} <= set(shown_tables(schema)), schema


def test_the_join_path_between_two_matched_tables_is_shown():
    """Categories and regions: the path runs categories ← items ← invoice lines → invoices → accounts → regions."""
    schema, _ = schema_slice(WIDE, "category and region", limit=3_000)
    shown = shown_tables(schema)
    assert {"product_categories", "regions"} <= set(shown)
    assert {"catalog_items", "invoice_lines", "sales_invoices", "customer_accounts"} <= set(shown), shown


def test_generic_column_words_do_not_pull_in_look_alikes():
    """``status`` and ``name`` are columns of almost every table: they must not outrank the invoices."""
    schema, _ = schema_slice(WIDE, "What is the status of each invoice and the customer name?")
    shown = shown_tables(schema)
    assert shown[0] == "sales_invoices", shown[:5]
    assert "customer_accounts" in shown[:4]


def test_earlier_questions_of_the_conversation_help_choose():
    """A follow-up that names no table ("and per month?") keeps the tables of the question before it."""
    schema, _ = schema_slice(WIDE, "and per month?", context="What is the total invoice amount per region?")
    assert {"sales_invoices", "regions"} <= set(shown_tables(schema)[:6])


def test_a_question_that_matches_nothing_still_gets_a_bounded_schema():
    schema, left_out = schema_slice(WIDE, "zzz qqq")
    assert 0 < len(schema) <= MAX_SCHEMA_CHARS
    assert left_out


def test_the_demo_schema_is_shown_whole():
    small = {
        "tables": [
            {"name": name, "columns": [{"name": "id", "type": "INTEGER"}], "foreign_keys": []} for name in DEMO_TABLES
        ]
    }
    schema, left_out = schema_slice(small, "anything")
    assert shown_tables(schema) == list(DEMO_TABLES) and left_out == []


def test_tables_of_two_schemas_with_one_name_are_both_kept():
    snapshot = {
        "tables": [
            {"schema": "public", "name": "orders", "columns": [{"name": "id", "type": "int"}]},
            {"schema": "archive", "name": "orders", "columns": [{"name": "id", "type": "int"}]},
        ]
    }
    schema, _ = schema_slice(snapshot, "orders")
    assert shown_tables(schema) == ["orders", "archive.orders"]


def test_words_split_identifiers_and_plurals():
    assert words("OrderItems customer_id") == {"order", "item", "customer", "id"}
    assert words("categories addresses statuses") == words("category address status")


# --- what the model receives, end to end
pytestmark_db = pytest.mark.django_db(transaction=True)


@pytestmark_db
async def test_the_demo_prompt_holds_every_table(demo_source, openai_llm, user):
    say(openai_llm, "Hello.")
    await ask(user, "Hello")
    prompt = system_prompt(llm_requests(openai_llm)[0])
    assert shown_tables(schema_part(prompt)) == sorted(DEMO_TABLES)
    assert "Other tables" not in prompt
    assert "orders(id INTEGER, customer_id INTEGER" in prompt.replace(" NOT NULL", "")
    assert "customer_id -> customers(id)" in prompt
    assert 'SQLite database called "demo"' in prompt


def _wide_source(path):
    source = make_source(name="warehouse", url=f"sqlite:///{wide_sqlite(path)}")
    return source


@pytestmark_db
async def test_on_a_wide_source_the_prompt_is_bounded_and_relevant(own_data_dir, openai_llm, user):
    source = await sync_to_async(_wide_source)(own_data_dir / "wide.sqlite3")
    tool_call(
        openai_llm,
        "SELECT r.name, sum(i.amount) AS total FROM sales_invoices i "
        "JOIN customer_accounts a ON a.id = i.customer_account_id JOIN regions r ON r.id = a.region_id "
        "GROUP BY r.name",
    )
    say(openai_llm, "North leads.")
    answer = await ask(user, "What is the total invoice amount per region?", data_source=str(source.pk))

    prompt = system_prompt(llm_requests(openai_llm)[0])
    schema = schema_part(prompt)
    assert len(schema) <= MAX_SCHEMA_CHARS
    assert {"sales_invoices", "customer_accounts", "regions"} <= set(shown_tables(schema))
    assert len(prompt) < MAX_SCHEMA_CHARS + 40 * MAX_OTHER_NAMES + 3_000  # rules, other names, examples: bounded
    others = prompt.split("Other tables (columns not shown): ", 1)[1].split("\n", 1)[0]
    assert others.endswith("more")  # 400 tables: the names of the rest are cut too
    assert answer["lineage"]["tables"] == ["customer_accounts", "regions", "sales_invoices"]
    assert answer["lineage"]["row_count"] == 2
    assert len(CORE) < 400


# --- the conversation and saved examples
@pytestmark_db
async def test_earlier_turns_reach_the_model(demo_source, openai_llm, user):
    tool_call(openai_llm, COUNT_CUSTOMERS)
    say(openai_llm, "There are 200 customers.")
    first = await ask(user, "How many customers are there?")
    say(openai_llm, "About half.")
    await ask(user, "And how many of them ordered?", conversation_id=first["conversation_id"])

    messages = llm_requests(openai_llm)[-1].body["messages"]
    turns = [(m["role"], m["content"]) for m in messages if m["role"] in ("user", "assistant")]
    assert turns[0] == ("user", "How many customers are there?")
    assert turns[1][0] == "assistant" and turns[1][1].startswith("There are 200 customers.")
    assert "count(*)" in turns[1][1].lower()  # the SQL that answered it, so a follow-up can build on it
    assert turns[-1] == ("user", "And how many of them ordered?")
    assert len(turns) == 3


def _memory(source, question, sql, **fields):
    values = {
        "kind": MemoryKind.QUESTION_SQL,
        "question": question,
        "sql": sql,
        "data_source": source,
        "scope": MemoryScope.GLOBAL,
        "status": MemoryStatus.APPROVED,
        **fields,
    }
    return Memory.objects.create(**values)


@pytestmark_db
async def test_saved_examples_reach_the_prompt_and_the_lineage(demo_source, openai_llm, user):
    make = sync_to_async(_memory)
    used = await make(
        demo_source, "How many orders were cancelled?", "SELECT count(*) FROM orders WHERE status = 'cancelled'"
    )
    draft = await make(demo_source, "How many orders were shipped?", "SELECT 'draft'", status=MemoryStatus.DRAFT)
    retired = await make(
        demo_source, "How many orders were delivered?", "SELECT 'retired'", status=MemoryStatus.RETIRED
    )
    tool_call(openai_llm, "SELECT count(*) AS n FROM orders WHERE status = 'pending'")
    say(openai_llm, "Some are pending.")
    answer = await ask(user, "How many orders are pending?")

    prompt = system_prompt(llm_requests(openai_llm)[0])
    assert "Q: How many orders were cancelled?\nSQL: SELECT count(*) FROM orders WHERE status = 'cancelled'" in prompt
    assert "'draft'" not in prompt and "'retired'" not in prompt
    assert answer["lineage"]["memories"] == [str(used.pk)]
    assert str(draft.pk) not in answer["lineage"]["memories"] and str(retired.pk) not in answer["lineage"]["memories"]
    assert any("saved example" in r for r in answer["lineage"]["confidence"]["reasons"])
