"""``saved_questions_search``: the saved questions a caller may use, found without reloading every memory on
each question, and never stale: a memory saved, edited, retired or deleted changes the next answer at once."""

import pytest

from accounts.tests.factories import UserFactory, client_principal_stand_in
from agent.knowledge import memory as knowledge_memory
from agent.knowledge.memory import memory_index_invalidate, saved_question_index, saved_questions_search
from agent.models import Memory, MemoryKind, MemoryScope, MemoryStatus

pytestmark = pytest.mark.django_db


def save(source, question, sql="SELECT 1", **fields) -> Memory:
    fields.setdefault("status", MemoryStatus.APPROVED)
    return Memory.objects.create(kind=MemoryKind.QUESTION_SQL, question=question, sql=sql, data_source=source, **fields)


def best(principal, source, question):
    found = saved_questions_search(principal, source, question, limit=1)
    return found[0] if found else None


def test_results_carry_the_saved_sql_and_a_score(demo_source, user):
    memory = save(demo_source, "How many orders were cancelled?", "SELECT COUNT(*) FROM orders")
    found = best(user, demo_source, "number of cancelled orders")
    assert found == {"id": str(memory.pk), "question": memory.question, "sql": memory.sql, "score": found["score"]}
    assert 0.6 < found["score"] <= 1


def test_saved_edited_retired_and_deleted_memories_show_at_once(demo_source, user):
    save(demo_source, "How many orders are there?")
    assert best(user, demo_source, "cancelled orders")["question"] == "How many orders are there?"
    cancelled = save(demo_source, "How many orders were cancelled?")
    assert best(user, demo_source, "cancelled orders")["id"] == str(cancelled.pk)
    cancelled.question = "Which orders were voided?"
    cancelled.save()
    assert best(user, demo_source, "voided orders")["question"] == "Which orders were voided?"
    cancelled.status = MemoryStatus.RETIRED
    cancelled.save()
    assert best(user, demo_source, "voided orders")["question"] == "How many orders are there?"
    Memory.objects.all().delete()
    assert best(user, demo_source, "voided orders") is None


def test_the_index_is_shared_until_something_changes(demo_source, user, admin):
    save(demo_source, "How many orders are there?")
    first = saved_question_index(user, demo_source)
    assert saved_question_index(admin, demo_source) is first  # neither has private memories
    save(demo_source, "Which orders are pending?", scope=MemoryScope.PRIVATE, owner=admin)
    assert saved_question_index(user, demo_source) is first
    assert saved_question_index(admin, demo_source) is not first
    Memory.objects.filter(question="How many orders are there?").update(question="Total of orders")
    assert saved_question_index(user, demo_source) is first  # a bulk update() leaves no stamp...
    memory_index_invalidate()  # ... so its caller says so
    assert saved_question_index(user, demo_source) is not first
    assert len(knowledge_memory._indexes) <= knowledge_memory.CACHED_INDEXES


def test_private_memories_of_users_and_clients_stay_their_own(demo_source):
    alice, bob = UserFactory(), UserFactory()
    client, other_client = client_principal_stand_in(client_id="cli_a"), client_principal_stand_in(client_id="cli_b")
    save(demo_source, "Alice's favourite orders", scope=MemoryScope.PRIVATE, owner=alice)
    save(demo_source, "Nightly extract of products", scope=MemoryScope.PRIVATE, owner_client_id="cli_a")
    assert best(alice, demo_source, "favourite orders of Alice")["question"] == "Alice's favourite orders"
    assert best(bob, demo_source, "favourite orders of Alice") is None
    assert best(client, demo_source, "nightly product extract")["question"] == "Nightly extract of products"
    assert best(other_client, demo_source, "nightly product extract") is None
    assert best(client, demo_source, "favourite orders of Alice") is None
    assert best(alice, demo_source, "nightly product extract") is None


def test_memories_of_every_source_apply_and_other_sources_do_not(demo_source, user, roots):
    from agent.tests.factories import make_source, sqlite_file

    other = make_source(name="other", url=f"sqlite:///{sqlite_file(roots / 'other.sqlite3')}")
    save(None, "Which invoices are overdue?")
    save(other, "Which shipments are late?")
    assert best(user, demo_source, "overdue invoices")["question"] == "Which invoices are overdue?"
    assert best(user, demo_source, "late shipments") is None
    assert best(user, other, "late shipments")["question"] == "Which shipments are late?"
