"""Offline mode (contract §5 "Agent" → Chat: no LLM configured), in-process through chat_prepare/chat_collect:
SQL runs through the read-only gate, a close saved question runs its saved SQL and says which one matched and
how closely, anything else gets an honest "no LLM is configured" with the closest saved questions and the
tables. Who may use a memory: approved global ones, the caller's own private ones; never a draft or retired
global memory, never another user's private one."""

import shutil

import pytest
from asgiref.sync import sync_to_async

from accounts.models import AuditLog
from accounts.tests.factories import UserFactory
from agent.engine.offline import MATCH_THRESHOLD
from agent.knowledge.demo_questions import demo_questions_save
from agent.models import Memory, MemoryKind, MemoryScope, MemoryStatus
from agent.services.demo_data import demo_sqlite_install

from .conftest import ask

pytestmark = pytest.mark.django_db(transaction=True)

NO_LLM = "No LLM is configured"


def events_of(answer: dict, kind: str) -> list[dict]:
    return [e for e in answer["events"] if e["type"] == kind]


@sync_to_async
def save_memory(source, question: str, sql: str, **fields) -> Memory:
    fields.setdefault("scope", MemoryScope.GLOBAL)
    fields.setdefault("status", MemoryStatus.APPROVED)
    return Memory.objects.create(kind=MemoryKind.QUESTION_SQL, question=question, sql=sql, data_source=source, **fields)


@pytest.fixture(scope="module")
def built_demo(tmp_path_factory):
    """The demo file, built once for the module (about a second each time otherwise)."""
    from agent import demo

    path = tmp_path_factory.mktemp("offline-demo") / "demo.sqlite3"
    demo.build_demo_sqlite(path)
    return path


@pytest.fixture
def demo_source(own_data_dir, db, built_demo):
    """conftest's demo data source, from a copy of the module's demo file."""
    shutil.copyfile(built_demo, own_data_dir / "demo.sqlite3")
    return demo_sqlite_install(by="test").source


@pytest.fixture
def demo_knowledge(demo_source):
    demo_questions_save(source=demo_source, by="test")
    return demo_source


def assert_honest(answer: dict) -> None:
    """Offline answers say so, and the lineage names no model or provider."""
    assert NO_LLM in answer["response"], answer["response"]
    assert answer["metadata"]["mode"] == "offline"
    assert answer["lineage"]["provider"] is None and answer["lineage"]["model"] is None
    assert answer["lineage"]["llm_calls"] == 0


async def test_sql_runs_through_the_gate(demo_source, offline, user):
    answer = await ask(user, "SELECT country, COUNT(*) AS n FROM customers GROUP BY country ORDER BY n DESC")
    assert_honest(answer)
    [table] = events_of(answer, "table")
    assert table["columns"] == ["country", "n"] and table["rows"][0] == ["United States", 232]
    assert answer["lineage"]["tables"] == ["customers"]
    assert answer["lineage"]["matched_question"] is None and answer["metadata"]["error"] is None


@pytest.mark.parametrize(
    ("sql", "rule"),
    [("DELETE FROM customers WHERE id = 1", "write_node"), ("SELECT load_extension('/tmp/evil.so')", "function")],
)
async def test_refused_sql_is_an_sql_refused_error_naming_the_rule(demo_source, offline, user, sql, rule):
    answer = await ask(user, sql)
    assert_honest(answer)
    error = answer["metadata"]["error"]
    assert error["code"] == "SQL_REFUSED", answer
    assert error["details"]["rule"] == rule, error
    assert [e["error"] for e in events_of(answer, "error")] == [error]
    assert not events_of(answer, "table")
    assert await sync_to_async(AuditLog.objects.filter(action="agent.sql_refused").count)() == 1
    after = await ask(user, "SELECT COUNT(*) FROM customers WHERE id = 1")
    assert events_of(after, "table")[0]["rows"] == [[1]]  # the data source is unchanged


async def test_a_question_written_like_a_sentence_is_not_taken_for_sql(demo_knowledge, offline, user):
    answer = await ask(user, "Select the customers who spent the most with us")
    assert answer["metadata"]["error"] is None
    assert answer["lineage"]["matched_question"]["question"] == "Who are the top 10 customers by total spend?"


async def test_a_paraphrase_runs_the_saved_question_and_says_which_and_how_closely(demo_knowledge, offline, user):
    answer = await ask(user, "Break down our clients by nation")
    assert_honest(answer)
    matched = answer["lineage"]["matched_question"]
    assert matched["question"] == "How many customers are there in each country?"
    assert MATCH_THRESHOLD <= matched["score"] <= 1
    assert f'"{matched["question"]}"' in answer["response"] and f"{matched['score']:.2f}" in answer["response"]
    memory = await sync_to_async(Memory.objects.get)(question=matched["question"])
    assert answer["lineage"]["memories"] == [str(memory.pk)] == [matched["memory_id"]]
    assert [e["sql"] for e in events_of(answer, "sql")] == [memory.sql]
    [table] = events_of(answer, "table")
    assert table["rows"][0] == ["United States", 232] and table["row_count"] == 14
    assert answer["lineage"]["confidence"]["tier"] == "high", answer["lineage"]["confidence"]
    assert any("matched the saved question" in r for r in answer["lineage"]["confidence"]["reasons"])
    await sync_to_async(memory.refresh_from_db)()
    assert memory.use_count == 1 and memory.last_used_at is not None


async def test_no_match_says_so_and_lists_the_closest_questions_and_the_tables(demo_knowledge, offline, user):
    answer = await ask(user, "How many customers unsubscribed from the newsletter?")
    assert_honest(answer)
    text = answer["response"]
    assert "no saved question matches closely enough" in text
    assert '"How many customers do we have?"' in text  # the closest one, with its similarity
    for table in ("customers", "products", "employees", "orders", "order_items"):
        assert table in text
    assert not events_of(answer, "sql") and not events_of(answer, "table")
    assert answer["lineage"]["matched_question"] is None and answer["lineage"]["sql"] is None
    assert answer["lineage"]["confidence"]["tier"] == "low"


async def test_no_saved_question_at_all(demo_source, offline, user):
    answer = await ask(user, "What's the weather like tomorrow?")
    assert_honest(answer)
    assert "No saved question shares words with yours" in answer["response"]
    assert "orders" in answer["response"]


@pytest.mark.parametrize("status", [MemoryStatus.APPROVED, MemoryStatus.DRAFT])
async def test_a_private_memory_answers_its_owner_only(demo_source, offline, status):
    """Approved or still a draft (the owner's own correction, issue 16), a private memory is its owner's."""
    owner, other = await sync_to_async(UserFactory)(), await sync_to_async(UserFactory)()
    sql = "SELECT name, salary FROM employees WHERE department = 'Engineering' ORDER BY salary DESC"
    question = "What do our engineers earn?"
    await save_memory(demo_source, question, sql, scope=MemoryScope.PRIVATE, owner=owner, status=status)
    mine = await ask(owner, question)
    assert mine["lineage"]["matched_question"]["question"] == question
    assert events_of(mine, "table")[0]["row_count"] == 5
    theirs = await ask(other, question)
    assert theirs["lineage"]["matched_question"] is None
    assert "engineers" not in theirs["response"] and not events_of(theirs, "sql")


GARDEN = "Which products are in the Garden category?"


@pytest.mark.parametrize(
    ("status", "scope"),
    [
        (MemoryStatus.DRAFT, MemoryScope.GLOBAL),
        (MemoryStatus.RETIRED, MemoryScope.GLOBAL),
        (MemoryStatus.RETIRED, MemoryScope.PRIVATE),
    ],
)
async def test_draft_and_retired_memories_never_answer(demo_source, offline, user, status, scope):
    owner = user if scope == MemoryScope.PRIVATE else None
    await save_memory(demo_source, GARDEN, "SELECT name FROM products", status=status, scope=scope, owner=owner)
    answer = await ask(user, GARDEN)
    assert answer["lineage"]["matched_question"] is None and not events_of(answer, "sql")
    assert "Garden" not in answer["response"]  # not even suggested


async def test_a_retired_memory_stops_answering_at_once(demo_source, offline, user):
    memory = await save_memory(demo_source, GARDEN, "SELECT name FROM products")
    first = await ask(user, "Garden category products")
    assert first["lineage"]["matched_question"]["memory_id"] == str(memory.pk)
    memory.status = MemoryStatus.RETIRED
    await sync_to_async(memory.save)()
    again = await ask(user, "Garden category products")
    assert again["lineage"]["matched_question"] is None


async def test_a_memory_of_another_data_source_never_answers(demo_source, offline, user, roots):
    from agent.tests.factories import make_source, sqlite_file

    other = await sync_to_async(make_source)(name="other", url=f"sqlite:///{sqlite_file(roots / 'other.sqlite3')}")
    await save_memory(other, GARDEN, "SELECT * FROM t")
    answer = await ask(user, GARDEN)
    assert answer["lineage"]["matched_question"] is None


async def test_a_saved_query_that_no_longer_runs_ends_in_an_error(demo_source, offline, user):
    await save_memory(demo_source, "Which suppliers do we use?", "SELECT name FROM suppliers")
    answer = await ask(user, "Which suppliers do we use?")
    assert answer["lineage"]["matched_question"]["question"] == "Which suppliers do we use?"
    assert answer["metadata"]["error"]["code"] == "SQL_REFUSED"
    assert answer["lineage"]["confidence"]["tier"] == "low"
