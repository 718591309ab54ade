"""The semantic layer reaches the model: the entries relevant to the question are in the system prompt the LLM
receives (over real HTTP, the fake server) and their ids are in the answer's lineage."""

import pytest
from asgiref.sync import sync_to_async

from agent.models import SemanticTable
from agent.services.chat import chat_collect, chat_prepare
from agent.services.semantic import semantic_entry_update, semantic_metric_create
from config_api.services import config_update
from majed_vanna.tests.fake_llm import openai_stream

from .conftest import sync

pytestmark = pytest.mark.django_db(transaction=True)


def _describe(source, admin) -> list[str]:
    sync(source)
    customers = SemanticTable.objects.get(data_source=source, name="customers")
    semantic_entry_update(entry=customers, actor=admin, description="People who bought", synonyms=["clients"])
    metric = semantic_metric_create(
        actor=admin,
        data_source=source,
        name="revenue",
        synonyms=["turnover"],
        expression="SUM(total)",
        table="orders",
        filters=["status <> 'cancelled'"],
    )
    return sorted([str(customers.pk), str(metric.pk)])


async def test_the_prompt_holds_the_relevant_entries_and_the_lineage_their_ids(demo_source, admin, user, fake_llm):
    await sync_to_async(config_update)(
        actor=admin,
        changes={
            "llm_provider": "openai",
            "llm_model": "fake-model-1",
            "llm_base_url": fake_llm.url + "/v1",
            "llm_api_key": fake_llm.api_key,
        },
    )
    ids = await sync_to_async(_describe)(demo_source, admin)
    sql = "SELECT SUM(total) AS value FROM orders WHERE status <> 'cancelled'"
    fake_llm.enqueue(events=openai_stream(tool_calls=[("run_sql", {"sql": sql})]))
    fake_llm.enqueue(events=openai_stream(["The turnover is known."]))
    prepared = await chat_prepare(principal=user, message="What is the turnover from our clients?")
    answer = await chat_collect(prepared)
    body = fake_llm.requests[0].body
    system = next(m["content"] for m in body["messages"] if m["role"] == "system")
    assert "What the data means (the semantic layer):" in system
    assert (
        "- revenue (also called: turnover): SELECT SUM(total) AS value FROM \"orders\" WHERE status <> 'cancelled'"
        in system
    )
    assert "- customers (also called: clients): People who bought" in system
    assert sorted(answer["lineage"]["semantic"]) == ids
