"""Token usage (issue 15 "Token usage and cost"): tokens in and out per message, kept on the message and summed
per user and per integration client for today (``done.metadata.usage_today``, chat_poll's
``metadata.usage_today``); the per-user daily budget (``agent_daily_token_budget``, 0 = unlimited) refuses
further chats with 429 TOKEN_BUDGET_EXCEEDED and ``Retry-After``; an integration client has its own."""

import json

import pytest
from asgiref.sync import sync_to_async
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from agent.models import Conversation, Message
from integrations.principal import IntegrationPrincipal
from integrations.services import client_create
from majed_vanna.roles import Role

from ..chat.conftest import ask, stream
from .script import COUNT_CUSTOMERS, llm_requests, say, tool_call

pytestmark = pytest.mark.django_db(transaction=True)

POLL = "/api/v1/agent/chat_poll"
SSE = "/api/v1/agent/chat_sse"
ONE_ANSWER = 100 + 12 + 150 + 9  # the tokens of ``answer_with_sql``: two model calls


def answer_with_sql(fake):
    tool_call(fake, COUNT_CUSTOMERS, usage=(100, 12))
    say(fake, "There are 200 customers.", usage=(150, 9))


def integration(permissions=("use_chat",)):
    """An integration client: its principal and an API client sending its key."""
    issued = client_create(name="Reports", permissions=list(permissions))
    http = APIClient()
    http.credentials(HTTP_X_API_KEY=issued.api_key)
    return IntegrationPrincipal(issued.client), http


def poll(http, message="How many customers are there?", **body):
    return http.post(POLL, {"message": message, **body}, format="json")


async def test_usage_is_kept_per_message_and_summed_for_today(demo_source, openai_llm, user):
    answer_with_sql(openai_llm)
    first = await stream(user, "How many customers are there?")
    done = first[-1]
    assert done["metadata"]["usage"] == {"input_tokens": 250, "output_tokens": 21, "total_tokens": ONE_ANSWER}
    assert done["metadata"]["usage_today"] == {
        "input_tokens": 250,
        "output_tokens": 21,
        "total_tokens": ONE_ANSWER,
        "budget": 0,
    }
    message = await sync_to_async(Message.objects.get)(pk=done["message_id"])
    assert message.usage == done["metadata"]["usage"] == done["lineage"]["usage"]

    say(openai_llm, "Hello.", usage=(40, 2))
    second = await ask(user, "Hello", conversation_id=done["conversation_id"])
    assert second["metadata"]["usage"]["total_tokens"] == 42
    assert second["metadata"]["usage_today"]["total_tokens"] == ONE_ANSWER + 42
    assert second["metadata"]["usage_today"]["input_tokens"] == 290


async def test_each_principal_has_its_own_total(demo_source, openai_llm, user):
    other = await sync_to_async(UserFactory)(role=Role.NORMAL)
    client, _ = await sync_to_async(integration)()
    answer_with_sql(openai_llm)
    await ask(user, "How many customers are there?")
    say(openai_llm, "Hi.", usage=(10, 1))
    assert (await ask(other, "Hi"))["metadata"]["usage_today"]["total_tokens"] == 11
    say(openai_llm, "Hi.", usage=(20, 2))
    assert (await ask(client, "Hi"))["metadata"]["usage_today"]["total_tokens"] == 22


async def test_a_failed_answer_costs_what_it_used(demo_source, openai_llm, user):
    tool_call(openai_llm, COUNT_CUSTOMERS, usage=(100, 12))
    for _ in range(2):
        openai_llm.enqueue(status=500)
    events = await stream(user, "How many customers are there?")
    assert events[-2]["type"] == "error"
    assert events[-1]["metadata"]["usage_today"]["total_tokens"] == 112


async def test_deleting_conversations_gives_no_tokens_back(demo_source, openai_llm, user):
    answer_with_sql(openai_llm)
    await ask(user, "How many customers are there?")
    await sync_to_async(lambda: Conversation.objects.filter(user=user).delete())()
    say(openai_llm, "Hi.", usage=(1, 1))
    assert (await ask(user, "Hi"))["metadata"]["usage_today"]["total_tokens"] == ONE_ANSWER + 2


# --- the budget, through the HTTP API (sync tests: the test client runs the async views)
@pytest.fixture
def budget(admin):
    from config_api.services import config_update

    def set_budget(tokens: int):
        config_update(actor=admin, changes={"agent_daily_token_budget": tokens})

    return set_budget


def assert_refused(response, used: int, budget_: int):
    assert response.status_code == 429, response.content
    body = response.json()
    assert body["error"]["code"] == "TOKEN_BUDGET_EXCEEDED"
    assert body["error"]["details"] == {"budget": budget_, "used": used}
    assert 0 < int(response["Retry-After"]) <= 24 * 3600 + 1  # until 00:00 UTC


def test_a_spent_budget_refuses_further_chats_with_429(demo_source, openai_llm, user, api_client_for, budget):
    budget(200)
    http = api_client_for(user)
    answer_with_sql(openai_llm)
    first = poll(http)
    assert first.status_code == 200, first.content
    assert first.json()["data"]["metadata"]["usage_today"] == {
        "input_tokens": 250,
        "output_tokens": 21,
        "total_tokens": ONE_ANSWER,
        "budget": 200,
    }
    calls = len(llm_requests(openai_llm))

    assert_refused(poll(http), ONE_ANSWER, 200)
    streamed = http.post(SSE, {"message": "And now?"}, format="json")
    assert streamed["Content-Type"].startswith("application/json")  # refused before any stream starts
    assert_refused(streamed, ONE_ANSWER, 200)
    assert len(llm_requests(openai_llm)) == calls  # the model was not asked
    assert Message.objects.filter(conversation__user=user).count() == 2  # the refused questions were not stored

    other = api_client_for(UserFactory(role=Role.NORMAL))  # a budget per user
    say(openai_llm, "Hi.", usage=(5, 1))
    assert poll(other, "Hi").status_code == 200

    budget(0)  # unlimited
    say(openai_llm, "Hi again.", usage=(5, 1))
    assert poll(http, "Hi").status_code == 200


def test_a_raised_budget_lets_the_user_continue(demo_source, openai_llm, user, api_client_for, budget):
    budget(100)
    http = api_client_for(user)
    answer_with_sql(openai_llm)
    assert poll(http).status_code == 200
    assert_refused(poll(http), ONE_ANSWER, 100)
    budget(ONE_ANSWER + 1)
    say(openai_llm, "Fine.", usage=(1, 1))
    assert poll(http, "Hi").status_code == 200


def test_integration_clients_are_budgeted_per_client(demo_source, openai_llm, user, api_client_for, budget):
    budget(200)
    _, first = integration()
    _, second = integration()
    answer_with_sql(openai_llm)
    assert poll(first).status_code == 200
    assert_refused(poll(first), ONE_ANSWER, 200)
    say(openai_llm, "Hi.", usage=(3, 1))
    assert poll(second, "Hi").status_code == 200  # another client
    say(openai_llm, "Hi.", usage=(3, 1))
    assert poll(api_client_for(user), "Hi").status_code == 200  # a user is not the client


def test_usage_is_in_the_audit_row_without_secrets(demo_source, openai_llm, user, api_client_for):
    from accounts.models import AuditLog

    answer_with_sql(openai_llm)
    poll(api_client_for(user))
    row = AuditLog.objects.filter(action="agent.chat", user_id=str(user.pk)).get()
    assert row.details["usage"] == {"input_tokens": 250, "output_tokens": 21, "total_tokens": ONE_ANSWER}
    assert openai_llm.api_key not in json.dumps(row.details)


def test_offline_answers_spend_no_tokens_and_stay_open(demo_source, openai_llm, user, api_client_for, budget, admin):
    from config_api.services import config_update

    budget(100)
    http = api_client_for(user)
    answer_with_sql(openai_llm)
    assert poll(http).status_code == 200
    assert_refused(poll(http), ONE_ANSWER, 100)
    config_update(actor=admin, changes={"llm_provider": "none"})  # offline mode: no model, no tokens
    response = poll(http, "SELECT count(*) AS n FROM customers")
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["metadata"]["mode"] == "offline" and data["metadata"]["usage"] == {}
    assert data["metadata"]["usage_today"]["total_tokens"] == ONE_ANSWER
