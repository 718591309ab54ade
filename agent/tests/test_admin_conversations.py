"""Django admin: conversations and messages are read-only pages (chat runs write them; the API deletes them,
audited)."""

import pytest
from django.test import Client

from agent.services.conversations import conversation_start, message_append

pytestmark = pytest.mark.django_db


def staff_client(admin) -> Client:
    client = Client()
    client.force_login(admin)
    return client


def test_conversations_and_messages_are_listed_and_shown_but_never_changed(admin, user):
    conversation = conversation_start(principal=user, title="Sales by month")
    message = message_append(principal=user, conversation=conversation, role="user", content="Sales by month?")
    client = staff_client(admin)
    listing = client.get("/admin/agent/conversation/")
    assert listing.status_code == 200 and "Sales by month" in listing.content.decode()
    assert user.username in listing.content.decode()
    page = client.get(f"/admin/agent/conversation/{conversation.pk}/change/")
    assert page.status_code == 200 and "Sales by month?" in page.content.decode()
    assert client.get(f"/admin/agent/message/{message.pk}/change/").status_code == 200
    assert client.get("/admin/agent/message/").status_code == 200
    assert client.get("/admin/agent/conversation/add/").status_code == 403
    assert client.get(f"/admin/agent/conversation/{conversation.pk}/delete/").status_code == 403
    response = client.post(f"/admin/agent/conversation/{conversation.pk}/change/", {"title": "changed"})
    assert response.status_code == 403
    conversation.refresh_from_db()
    assert conversation.title == "Sales by month"
