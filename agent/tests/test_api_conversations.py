"""``agent/conversations``: owner checked on every read and write (others' are 404), system_admin sees all,
integration clients have their own, messages paged oldest first, deletion audited, ``users/{id}/conversations``
filled in, and a list page costs the same queries whatever its size."""

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import AuditLog
from accounts.tests.factories import UserFactory
from agent import selectors
from agent.models import Conversation, Message
from agent.services.conversations import conversation_start, message_append
from integrations.principal import IntegrationPrincipal
from integrations.services import client_create
from majed_vanna.api.pagination import with_total
from majed_vanna.exceptions import NotFoundError
from majed_vanna.roles import Role
from majed_vanna.tests.list_queries import assert_page_queries_flat, postgres_plan

from .factories import PG_URL, make_source

pytestmark = pytest.mark.django_db

LIST = "/api/v1/agent/conversations"


def detail(conversation) -> str:
    return f"{LIST}/{conversation.pk}"


def chat(principal, question: str = "How many orders?", **fields) -> Conversation:
    """A conversation of ``principal`` with one question and its answer, as a chat run stores them."""
    conversation = conversation_start(principal=principal, title=question, **fields)
    message_append(principal=principal, conversation=conversation, role="user", content=question)
    message_append(
        principal=principal,
        conversation=conversation,
        role="assistant",
        content="42 orders.",
        events=[{"type": "text", "text": "42 orders."}, {"type": "done", "done": True}],
        lineage={"sql": "SELECT count(*) FROM orders", "confidence": "high"},
        usage={"tokens_in": 120, "tokens_out": 8},
    )
    conversation.refresh_from_db()
    return conversation


def integration(permissions=("use_chat",)):
    """An integration client: its principal and a request client sending its API key."""
    issued = client_create(name=f"Client {len(permissions)}", permissions=list(permissions))
    http = APIClient()
    http.credentials(HTTP_X_API_KEY=issued.api_key)
    return IntegrationPrincipal(issued.client), http


def ids(response, key: str = "conversations") -> list[str]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["data"][key]]


# --- who sees what


def test_user_b_can_neither_read_nor_delete_user_a_conversation(api_client_for, user):
    a_conversation = chat(user)
    other = api_client_for(UserFactory(role=Role.NORMAL))
    for response in (
        other.get(detail(a_conversation)),
        other.get(f"{detail(a_conversation)}/messages"),
        other.delete(detail(a_conversation)),
    ):
        assert response.status_code == 404, response.content
        assert response.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert ids(other.get(LIST)) == []
    assert Conversation.objects.filter(pk=a_conversation.pk).exists()
    assert not AuditLog.objects.filter(action="conversation.delete").exists()


def test_a_user_lists_and_reads_their_own_newest_first(api_client_for, user):
    older, newer = chat(user, "first"), chat(user, "second")
    chat(UserFactory(role=Role.NORMAL), "someone else's")
    client = api_client_for(user)
    assert ids(client.get(LIST)) == [str(newer.pk), str(older.pk)]
    item = client.get(detail(older)).json()["data"]
    assert item["title"] == "first" and item["message_count"] == 2
    assert item["owner"] == {"type": "user", "id": str(user.pk), "name": user.username}


def test_user_b_cannot_continue_user_a_conversation(user):
    a_conversation = chat(user)
    with pytest.raises(NotFoundError):
        message_append(
            principal=UserFactory(role=Role.NORMAL), conversation=a_conversation, role="user", content="mine now?"
        )
    assert Message.objects.filter(conversation=a_conversation).count() == 2


def test_an_admin_sees_every_conversation_but_continues_none_of_theirs(api_client_for, admin, user):
    mine, theirs = chat(admin), chat(user)
    principal, _ = integration()
    clients = chat(principal)
    client = api_client_for(admin)
    assert set(ids(client.get(LIST))) == {str(mine.pk), str(theirs.pk), str(clients.pk)}
    assert client.get(f"{detail(theirs)}/messages").status_code == 200
    with pytest.raises(NotFoundError):
        message_append(principal=admin, conversation=theirs, role="user", content="hijack")


def test_an_integration_client_with_use_chat_has_its_own_conversations(api_client_for, user):
    principal, http = integration()
    own = chat(principal)
    other_principal, _ = integration(("use_chat", "use_tools"))
    chat(other_principal)
    users = chat(user)
    assert ids(http.get(LIST)) == [str(own.pk)]
    assert http.get(detail(own)).json()["data"]["owner"] == {
        "type": "integration",
        "id": principal.integration_client_id,
        "name": principal.client_name,
    }
    assert http.get(detail(users)).status_code == 404
    assert api_client_for(user).get(detail(own)).status_code == 404


def test_an_integration_client_without_use_chat_is_refused():
    _, http = integration(("read_config",))
    assert http.get(LIST).json()["error"]["code"] == "PERMISSION_DENIED"


# --- messages and deletion


def test_messages_are_paged_oldest_first_with_events_lineage_and_usage(api_client_for, user):
    conversation = chat(user)
    for number in range(3):
        message_append(principal=user, conversation=conversation, role="user", content=f"follow-up {number}")
    client = api_client_for(user)
    first = client.get(f"{detail(conversation)}/messages", {"per_page": 2}).json()["data"]
    assert (first["total"], first["has_next"]) == (5, True)
    assert [m["content"] for m in first["messages"]] == ["How many orders?", "42 orders."]
    answer = first["messages"][1]
    assert answer["role"] == "assistant" and answer["usage"] == {"tokens_in": 120, "tokens_out": 8}
    assert answer["lineage"]["confidence"] == "high" and answer["events"][-1]["type"] == "done"
    last = client.get(f"{detail(conversation)}/messages", {"per_page": 2, "page": 3}).json()["data"]
    assert [m["content"] for m in last["messages"]] == ["follow-up 2"] and last["has_next"] is False


def test_appending_counts_the_message_and_marks_the_conversation_active(user):
    older, newer = chat(user, "older"), chat(user, "newer")
    message_append(principal=user, conversation=older, role="user", content="again")
    older.refresh_from_db()
    assert older.message_count == 3 and older.updated_at > newer.updated_at
    assert list(selectors.conversations_visible(user)) == [older, newer]


def test_an_untitled_conversation_takes_its_first_question_as_title(user):
    conversation = conversation_start(principal=user)
    message_append(principal=user, conversation=conversation, role="user", content="  Top\n customers " + "x" * 300)
    conversation.refresh_from_db()
    assert conversation.title.startswith("Top customers x") and len(conversation.title) == 200


def test_deleting_removes_the_messages_and_is_audited(api_client_for, user):
    conversation = chat(user, "delete me")
    response = api_client_for(user).delete(detail(conversation))
    assert response.status_code == 200, response.content
    assert response.json()["data"] is None
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    assert not Message.objects.filter(conversation_id=conversation.pk).exists()
    row = AuditLog.objects.get(action="conversation.delete")
    assert (row.resource, row.resource_id, row.user_id) == ("conversation", str(conversation.pk), str(user.pk))
    assert row.details["title"] == "delete me" and row.details["message_count"] == 2


def test_an_admin_deletes_another_user_conversation_audited_as_the_admin(api_client_for, admin, user):
    conversation = chat(user)
    assert api_client_for(admin).delete(detail(conversation)).status_code == 200
    row = AuditLog.objects.get(action="conversation.delete")
    assert row.user_id == str(admin.pk) and row.details["owner"]["id"] == str(user.pk)


# --- filters


def test_list_filters_by_title_data_source_and_orders(api_client_for, user):
    source = make_source(name="shop", url=PG_URL)
    sales = chat(user, "Sales by month", data_source=source)
    stock = chat(user, "Stock levels")
    client = api_client_for(user)
    assert ids(client.get(LIST, {"search": "sales"})) == [str(sales.pk)]
    assert ids(client.get(LIST, {"data_source": str(source.pk)})) == [str(sales.pk)]
    assert ids(client.get(LIST, {"ordering": "title"})) == [str(sales.pk), str(stock.pk)]
    item = client.get(detail(sales)).json()["data"]
    assert item["data_source_id"] == str(source.pk)
    bad = client.get(LIST, {"ordering": "owner"})
    assert bad.status_code == 422 and "ordering" in bad.json()["error"]["details"]


# --- users/{id}/conversations


def test_users_conversations_lists_the_users_conversations(api_client_for, admin, user):
    own = chat(user, "mine")
    chat(UserFactory(role=Role.NORMAL), "not mine")
    principal, _ = integration()
    chat(principal, "a client's")
    data = api_client_for(user).get(f"/api/v1/users/{user.pk}/conversations").json()["data"]
    assert data["total"] == 1
    (item,) = data["conversations"]
    assert item["id"] == str(own.pk) and item["title"] == "mine" and item["message_count"] == 2
    assert {"data_source_id", "created_at", "updated_at"} <= set(item)
    as_admin = api_client_for(admin).get(f"/api/v1/users/{user.pk}/conversations").json()["data"]
    assert [c["id"] for c in as_admin["conversations"]] == [str(own.pk)]


# --- cost


def test_a_list_page_runs_the_same_queries_at_one_row_and_at_many(api_client_for, admin, django_assert_num_queries):
    source = make_source(name="shop", url=PG_URL)
    for number in range(26):
        chat(UserFactory(role=Role.NORMAL) if number % 2 else admin, f"q{number}", data_source=source)
    principal, _ = integration()
    chat(principal)
    assert_page_queries_flat(django_assert_num_queries, api_client_for(admin), LIST)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN plans are PostgreSQL's")
def test_a_users_list_page_reads_the_owner_index(user):
    plan = postgres_plan(with_total(selectors.conversation_list(principal=user, params={}))[:20])
    assert "agent_conv_user_recent" in plan, plan
    assert '"Sort"' not in plan and "Seq Scan" not in plan, plan
