"""The chat over WebSocket (``ws/agent/chat/``, agent/consumers.py) in-process through the project's ASGI
application: auth by the first message, several questions per socket, cancel, conflict, errors as events, the
``agent.chat`` rate limit shared with the HTTP transports. The LLM is the fake server over real HTTP."""

import asyncio
import time

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import AsyncClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import AuditLog
from accounts.tests.factories import UserFactory
from agent.models import Message
from config_api.services import config_update
from integrations.services import client_create
from majed_vanna.asgi import application
from majed_vanna.roles import Role
from majed_vanna.tests.fake_llm import openai_stream
from majed_vanna.ws import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED

pytestmark = pytest.mark.django_db(transaction=True)

ROUTE = "/ws/agent/chat/"
COUNT_SQL = "SELECT count(*) AS n FROM customers"
POLL = "/api/v1/agent/chat_poll"


def token_for(user) -> str:
    return str(RefreshToken.for_user(user).access_token)


async def opened() -> WebsocketCommunicator:
    ws = WebsocketCommunicator(application, ROUTE, headers=[(b"origin", b"http://localhost")])
    accepted, _ = await ws.connect()
    assert accepted
    return ws


async def signed_in(credential: dict) -> WebsocketCommunicator:
    ws = await opened()
    await ws.send_json_to({"type": "auth", **credential})
    ok = await ws.receive_json_from(timeout=5)
    assert ok["type"] == "auth_ok", ok
    return ws


async def closed_with(ws) -> int:
    message = await ws.receive_output(timeout=5)
    assert message["type"] == "websocket.close", message
    return message["code"]


async def answer(ws, **chat) -> list[dict]:
    """Send one chat and collect its events up to and including ``done``."""
    await ws.send_json_to({"type": "chat", **chat})
    return await until_done(ws)


async def until_done(ws) -> list[dict]:
    received = []
    while not received or received[-1]["type"] != "done":
        received.append(await ws.receive_json_from(timeout=10))
    return received


async def next_event(ws) -> dict:
    return await ws.receive_json_from(timeout=10)


def script_answer(fake, sql=COUNT_SQL, words=("There are ", "many customers.")):
    fake.enqueue(events=openai_stream(tool_calls=[("run_sql", {"sql": sql})]))
    fake.enqueue(events=openai_stream(list(words), usage=(10, 5)))


def script_slow_answer(fake, parts=20, interval=0.3):
    """A text answer streamed slowly: ``parts`` deltas ``interval`` seconds apart."""
    fake.enqueue(events=openai_stream([f"part {i}. " for i in range(parts)]), interval=interval)


@sync_to_async
def stored_answer(message_id) -> Message:
    return Message.objects.get(pk=message_id)


async def test_a_user_asks_two_questions_on_one_socket(demo_source, openai_llm, user):
    script_answer(openai_llm)
    ws = await signed_in({"token": await sync_to_async(token_for)(user)})
    first = await answer(ws, message="How many customers are there?")
    assert [e["type"] for e in first[:4]] == ["tool_start", "sql", "table", "tool_end"], first
    assert first[2]["columns"] == ["n"] and first[2]["rows"][0][0] > 0
    assert "".join(e["content"] for e in first if e["type"] == "text") == "There are many customers."
    done = first[-1]
    assert done["done"] is True and done["lineage"]["tables"] == ["customers"]

    script_answer(openai_llm, sql="SELECT count(*) AS n FROM orders", words=("Orders: ", "plenty."))
    second = await answer(ws, message="And orders?", conversation_id=done["conversation_id"])
    assert second[-1]["conversation_id"] == done["conversation_id"]
    assert second[-1]["message_id"] != done["message_id"]
    assert second[-1]["lineage"]["tables"] == ["orders"]
    # the second question went to the model with the first turn as history
    sent = openai_llm.requests[-2].body["messages"]
    assert any(m.get("content") == "How many customers are there?" for m in sent)
    await ws.disconnect()

    rows = await sync_to_async(list)(AuditLog.objects.filter(action="agent.chat").order_by("timestamp"))
    assert [(r.user_id, r.success) for r in rows] == [(str(user.pk), True)] * 2
    assert rows[0].details["message_id"] == done["message_id"]


async def test_an_integration_client_with_use_chat_authenticates_by_api_key(demo_source, offline):
    issued = await sync_to_async(client_create)(name="Reporting", permissions=["use_chat"])
    ws = await opened()
    await ws.send_json_to({"type": "auth", "api_key": issued.api_key})
    assert await ws.receive_json_from(timeout=5) == {
        "type": "auth_ok",
        "principal_type": "integration_client",
        "client_id": issued.client.client_id,
    }
    events = await answer(ws, message=COUNT_SQL)
    table = next(e for e in events if e["type"] == "table")
    assert table["rows"][0][0] > 0 and events[-1]["lineage"]["sql"]
    await ws.disconnect()


async def test_an_integration_client_without_use_chat_is_closed_with_4403(demo_source):
    issued = await sync_to_async(client_create)(name="Config reader", permissions=["read_config"])
    ws = await opened()
    await ws.send_json_to({"type": "auth", "api_key": issued.api_key})
    assert await closed_with(ws) == CLOSE_FORBIDDEN
    denied = await sync_to_async(AuditLog.objects.get)(action="permission.denied")
    assert denied.details["permission"] == "use_chat"


@pytest.mark.parametrize(
    "first",
    [
        {"type": "auth", "token": "not-a-jwt"},
        {"type": "auth"},
        {"type": "auth", "api_key": "mvk_0000.nope"},
        {"type": "chat", "message": COUNT_SQL},
    ],
    ids=["bad-token", "no-credential", "bad-api-key", "chat-before-auth"],
)
async def test_anything_but_good_credentials_first_closes_with_4401(first):
    ws = await opened()
    await ws.send_json_to(first)
    assert await closed_with(ws) == CLOSE_UNAUTHENTICATED
    assert await sync_to_async(Message.objects.count)() == 0


async def test_a_token_in_the_url_is_not_a_credential(user):
    token = await sync_to_async(token_for)(user)
    ws = WebsocketCommunicator(application, f"{ROUTE}?token={token}", headers=[(b"origin", b"http://localhost")])
    assert (await ws.connect())[0]
    await ws.send_json_to({"type": "chat", "message": "hi"})
    assert await closed_with(ws) == CLOSE_UNAUTHENTICATED


async def test_cancel_stops_the_answer_and_the_llm_request(demo_source, openai_llm, user):
    script_slow_answer(openai_llm)
    ws = await signed_in({"token": await sync_to_async(token_for)(user)})
    await ws.send_json_to({"type": "chat", "message": "Tell me a long story"})
    assert (await next_event(ws))["type"] == "text"
    cancelled_at = time.monotonic()
    await ws.send_json_to({"type": "cancel"})
    received = await until_done(ws)
    texts = [e for e in received if e["type"] == "text"]
    assert received[-2]["type"] == "error" and received[-2]["error"]["code"] == "CANCELLED", received
    assert "refused" not in received[-2]  # an error inside the answer: its done follows
    assert len(texts) < 5, "the answer kept streaming after the cancel"
    done = received[-1]
    assert done["lineage"] is not None and done["tools_used"] == []

    await sync_to_async(openai_llm.wait_for_requests)(1)
    deadline = time.monotonic() + 2
    while not openai_llm.disconnects and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert openai_llm.disconnects, "the LLM request was not closed"
    assert openai_llm.disconnects[0] - cancelled_at < 1.0

    stored = await stored_answer(done["message_id"])
    assert stored.events[-1]["error"]["code"] == "CANCELLED"
    assert stored.content.startswith("part 0.")
    audit = await sync_to_async(AuditLog.objects.get)(action="agent.chat")
    assert audit.success is False and audit.details["error"] == "CANCELLED"

    # the socket is ready for the next question; a cancel with nothing running is ignored
    await ws.send_json_to({"type": "cancel"})
    script_answer(openai_llm)
    followed = await answer(ws, message="How many customers, then?", conversation_id=done["conversation_id"])
    assert any(e["type"] == "table" for e in followed)
    assert followed[-1]["conversation_id"] == done["conversation_id"]
    await ws.disconnect()


async def test_a_disconnect_cancels_the_running_answer(demo_source, openai_llm, user):
    script_slow_answer(openai_llm)
    ws = await signed_in({"token": await sync_to_async(token_for)(user)})
    await ws.send_json_to({"type": "chat", "message": "Tell me a long story"})
    assert (await next_event(ws))["type"] == "text"
    gone_at = time.monotonic()
    await ws.disconnect(timeout=5)  # returns once the consumer has finished (the answer stored)
    deadline = time.monotonic() + 2
    while not openai_llm.disconnects and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert openai_llm.disconnects and openai_llm.disconnects[0] - gone_at < 1.0
    stored = await sync_to_async(Message.objects.get)(role="assistant")
    assert stored.events[-1]["error"]["code"] == "CANCELLED"


async def test_a_token_revoked_mid_answer_closes_the_socket_and_stops_the_answer(demo_source, openai_llm, user):
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts import tokens

    script_slow_answer(openai_llm)
    token = await sync_to_async(token_for)(user)
    ws = await signed_in({"token": token})
    await ws.send_json_to({"type": "chat", "message": "Tell me a long story"})
    assert (await next_event(ws))["type"] == "text"
    await sync_to_async(tokens.deny_access_token)(AccessToken(token).payload)  # logged out elsewhere
    await ws.send_json_to({"type": "cancel"})
    while (message := await ws.receive_output(timeout=5))["type"] != "websocket.close":
        assert message["type"] == "websocket.send"
    assert message["code"] == CLOSE_UNAUTHENTICATED
    stored = await sync_to_async(Message.objects.get)(role="assistant")
    assert stored.events[-1]["error"]["code"] == "CANCELLED"


async def test_a_second_chat_while_one_runs_is_a_conflict(demo_source, openai_llm, user):
    script_slow_answer(openai_llm, parts=10, interval=0.2)
    ws = await signed_in({"token": await sync_to_async(token_for)(user)})
    await ws.send_json_to({"type": "chat", "message": "Tell me a long story"})
    assert (await next_event(ws))["type"] == "text"
    await ws.send_json_to({"type": "chat", "message": "And another one"})
    received = await until_done(ws)
    conflicts = [e for e in received if e["type"] == "error"]
    assert [(e["error"]["code"], e.get("refused")) for e in conflicts] == [("CONFLICT", True)], received
    text = "".join(e["content"] for e in received if e["type"] == "text")
    assert text.endswith("part 9. ")  # the first answer ran to its end
    questions = await sync_to_async(list)(Message.objects.filter(role="user").values_list("content", flat=True))
    assert questions == ["Tell me a long story"]  # the refused chat stored nothing
    await ws.disconnect()


BAD_CHATS = [
    ({"message": ""}, "message"),
    ({"message": "x" * 4_001}, "message"),
    ({}, "message"),
    ({"message": "hi", "conversation_id": "not-a-uuid"}, "conversation_id"),
    ({"message": "hi", "data_source": "x" * 101}, "data_source"),
]


async def test_bad_input_is_a_validation_error_and_the_socket_stays_open(demo_source, offline, user):
    ws = await signed_in({"token": await sync_to_async(token_for)(user)})
    for chat, field in BAD_CHATS:
        await ws.send_json_to({"type": "chat", **chat})
        refused = await next_event(ws)
        assert refused["type"] == "error" and refused["error"]["code"] == "VALIDATION_ERROR", (chat, refused)
        assert refused["refused"] is True  # no done follows a refused chat
        assert list(refused["error"]["details"]) == [field], (chat, refused)
    events = await answer(ws, message=COUNT_SQL)
    assert any(e["type"] == "table" for e in events)
    assert await sync_to_async(Message.objects.filter(role="user").count)() == 1
    await ws.disconnect()


async def test_another_users_conversation_is_not_found(demo_source, offline, user):
    owner = await sync_to_async(UserFactory)(role=Role.NORMAL)
    theirs = await signed_in({"token": await sync_to_async(token_for)(owner)})
    their_done = (await answer(theirs, message=COUNT_SQL))[-1]
    await theirs.disconnect()

    ws = await signed_in({"token": await sync_to_async(token_for)(user)})
    await ws.send_json_to({"type": "chat", "message": "more", "conversation_id": their_done["conversation_id"]})
    refused = await next_event(ws)
    assert refused["type"] == "error" and refused["error"]["code"] == "RESOURCE_NOT_FOUND", refused
    assert refused["refused"] is True
    assert refused["error"]["message"] == "Conversation not found"
    await ws.send_json_to({"type": "chat", "message": "more", "data_source": "no-such-source"})
    assert (await next_event(ws))["error"]["code"] == "RESOURCE_NOT_FOUND"
    count = await sync_to_async(Message.objects.filter(conversation_id=their_done["conversation_id"]).count)()
    assert count == 2  # their question and answer, nothing added
    await ws.disconnect()


async def test_the_chat_rate_limit_is_shared_with_the_http_transports(demo_source, offline, admin, user):
    await sync_to_async(config_update)(actor=admin, changes={"rate_limits": {"agent.chat": "2/hour"}})
    token = await sync_to_async(token_for)(user)
    ws = await signed_in({"token": token})
    for _ in range(3):
        await ws.send_json_to({"type": "cancel"})  # nothing runs: ignored, and not counted
    assert any(e["type"] == "table" for e in await answer(ws, message=COUNT_SQL))

    http, auth = AsyncClient(), {"Authorization": f"Bearer {token}"}
    polled = await http.post(POLL, {"message": COUNT_SQL}, content_type="application/json", headers=auth)
    assert polled.status_code == 200, polled.content

    await ws.send_json_to({"type": "chat", "message": COUNT_SQL})
    refused = await next_event(ws)
    assert refused["type"] == "error" and refused["error"]["code"] == "RATE_LIMIT_EXCEEDED", refused
    assert refused["refused"] is True
    assert refused["error"]["retry_after"] > 0
    again = await http.post(POLL, {"message": COUNT_SQL}, content_type="application/json", headers=auth)
    assert again.status_code == 429
    assert await sync_to_async(Message.objects.filter(role="user").count)() == 2
    await ws.disconnect()
