"""The offline answerer's retrieval uses the semantic layer's synonyms (registered as a synonym provider): a
question in the business's own words finds the saved question written with the schema's words."""

import pytest
from asgiref.sync import sync_to_async

from agent.engine.offline import MATCH_THRESHOLD
from agent.knowledge.synonyms import synonyms_for
from agent.models import Memory, MemoryKind, MemoryScope, MemoryStatus, SemanticTable
from agent.services.semantic import semantic_entry_update

from ..chat.conftest import ask

pytestmark = pytest.mark.django_db(transaction=True)

SAVED = "How many order items are there?"
ASKED = "How many basket lines are there?"


@pytest.fixture
def saved(scanned):
    Memory.objects.create(
        kind=MemoryKind.QUESTION_SQL,
        question=SAVED,
        sql="SELECT count(*) AS n FROM order_items",
        data_source=scanned,
        scope=MemoryScope.GLOBAL,
        status=MemoryStatus.APPROVED,
    )
    return scanned


def name_synonyms(source, admin, synonyms):
    table = SemanticTable.objects.get(data_source=source, name="order_items")
    semantic_entry_update(entry=table, actor=admin, synonyms=synonyms)


async def test_a_semantic_synonym_lets_the_offline_answerer_match(saved, offline, user, admin):
    before = await ask(user, ASKED)
    assert before["lineage"]["matched_question"] is None and before["lineage"]["sql"] is None

    await sync_to_async(name_synonyms)(saved, admin, ["basket lines"])
    after = await ask(user, ASKED)
    matched = after["lineage"]["matched_question"]
    assert matched is not None and matched["question"] == SAVED and matched["score"] >= MATCH_THRESHOLD
    assert after["lineage"]["attempts"][0]["sql"] == "SELECT count(*) AS n FROM order_items"


def test_the_provider_reads_the_layer_per_data_source(saved, admin):
    name_synonyms(saved, admin, ["basket lines"])
    assert synonyms_for(saved).fingerprint != synonyms_for(None).fingerprint
    assert synonyms_for("not a data source").fingerprint == synonyms_for(None).fingerprint
