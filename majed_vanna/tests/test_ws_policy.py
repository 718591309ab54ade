"""WebSocket connections under the one request policy (majed_vanna/ws.py): the first message authenticates
with the same rules as HTTP, 4401/4403 close codes, per-message throttling, audit of refusals."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.urls import path
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import AuditLog
from accounts.permissions import Role
from accounts.tests.factories import UserFactory
from majed_vanna.api.scopes import register_scope
from majed_vanna.asgi import websocket_application
from majed_vanna.ws import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED, PolicyConsumer

pytestmark = pytest.mark.django_db(transaction=True)

register_scope("tests.ws_echo", "3/hour")


class EchoConsumer(PolicyConsumer):
    permission = "use_chat"
    throttle_scope = "tests.ws_echo"

    async def handle(self, content):
        if content.get("type") == "echo":
            await self.send_json({"type": "echo", "text": content.get("text"), "caller": self.principal_summary()})
        else:
            await super().handle(content)


class AdminOnlyConsumer(EchoConsumer):
    permission = "system_admin"


APP = websocket_application(
    [path("ws/test/echo/", EchoConsumer.as_asgi()), path("ws/test/admin/", AdminOnlyConsumer.as_asgi())]
)


@sync_to_async
def user_and_token(**kwargs):
    user = UserFactory(**{"role": Role.NORMAL, **kwargs})
    return user, str(RefreshToken.for_user(user).access_token)


async def connected(route="/ws/test/echo/", headers=None):
    communicator = WebsocketCommunicator(APP, route, headers=headers or [(b"origin", b"http://localhost")])
    accepted, _ = await communicator.connect()
    assert accepted
    return communicator


async def closed_with(communicator) -> int:
    message = await communicator.receive_output(timeout=5)
    assert message["type"] == "websocket.close"
    return message["code"]


async def test_a_valid_token_authenticates_and_messages_are_answered():
    user, token = await user_and_token()
    ws = await connected()
    await ws.send_json_to({"type": "auth", "token": token})
    assert await ws.receive_json_from(timeout=5) == {
        "type": "auth_ok",
        "principal_type": "user",
        "user_id": str(user.pk),
    }
    await ws.send_json_to({"type": "echo", "text": "hi"})
    answer = await ws.receive_json_from(timeout=5)
    assert answer["text"] == "hi" and answer["caller"]["user_id"] == str(user.pk)
    await ws.disconnect()


@pytest.mark.parametrize("credential", [{"token": "not-a-jwt"}, {"api_key": "mvk_0000.nope"}, {}])
async def test_bad_or_missing_credentials_close_with_4401(credential):
    ws = await connected()
    await ws.send_json_to({"type": "auth", **credential})
    assert await closed_with(ws) == CLOSE_UNAUTHENTICATED


async def test_a_first_message_that_is_not_auth_closes_with_4401():
    ws = await connected()
    await ws.send_json_to({"type": "echo", "text": "hi"})
    assert await closed_with(ws) == CLOSE_UNAUTHENTICATED


async def test_a_missing_permission_closes_with_4403_and_is_audited():
    user, token = await user_and_token()
    ws = await connected("/ws/test/admin/")
    await ws.send_json_to({"type": "auth", "token": token})
    assert await closed_with(ws) == CLOSE_FORBIDDEN
    row = await sync_to_async(AuditLog.objects.get)(action="permission.denied")
    assert row.user_id == str(user.pk) and row.details["permission"] == "system_admin"


async def test_a_user_who_must_change_password_is_refused_with_4403():
    _, token = await user_and_token(must_change_password=True)
    ws = await connected()
    await ws.send_json_to({"type": "auth", "token": token})
    assert await closed_with(ws) == CLOSE_FORBIDDEN


async def test_a_revoked_token_is_refused_like_over_http():
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts import tokens

    _, token = await user_and_token()
    await sync_to_async(tokens.deny_access_token)(AccessToken(token).payload)  # what logout does
    ws = await connected()
    await ws.send_json_to({"type": "auth", "token": token})
    assert await closed_with(ws) == CLOSE_UNAUTHENTICATED


async def test_messages_are_throttled_in_the_consumers_scope_and_the_socket_stays_open():
    _, token = await user_and_token()
    ws = await connected()
    await ws.send_json_to({"type": "auth", "token": token})
    await ws.receive_json_from(timeout=5)
    for _ in range(3):
        await ws.send_json_to({"type": "echo", "text": "x"})
        assert (await ws.receive_json_from(timeout=5))["type"] == "echo"
    await ws.send_json_to({"type": "echo", "text": "x"})
    refused = await ws.receive_json_from(timeout=5)
    assert refused["type"] == "error" and refused["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert refused["error"]["retry_after"] > 0
    await ws.send_json_to({"type": "unknown"})  # still open: answered
    assert (await ws.receive_json_from(timeout=5))["type"] == "error"
    await ws.disconnect()


async def test_malformed_messages_are_answered_not_fatal():
    _, token = await user_and_token()
    ws = await connected()
    await ws.send_json_to({"type": "auth", "token": token})
    await ws.receive_json_from(timeout=5)
    await ws.send_to(text_data="{not json")
    assert (await ws.receive_json_from(timeout=5))["error"]["code"] == "BAD_REQUEST"
    await ws.disconnect()


async def test_a_foreign_origin_is_refused():
    communicator = WebsocketCommunicator(APP, "/ws/test/echo/", headers=[(b"origin", b"https://evil.example")])
    accepted, _ = await communicator.connect()
    assert not accepted


@pytest.mark.parametrize("message", ["[" * 10_000, '{"type": "echo", "text": ' + '{"a": ' * 5_000])
async def test_absurdly_nested_json_is_a_bad_request_not_a_crash(message):
    """Refused before decoding (``MAX_JSON_DEPTH``): before authentication it closes the socket (4401), after
    it is an error event and the socket stays usable."""
    ws = await connected()
    await ws.send_to(text_data=message)
    assert await closed_with(ws) == CLOSE_UNAUTHENTICATED
    _, token = await user_and_token()
    ws = await connected()
    await ws.send_json_to({"type": "auth", "token": token})
    assert (await ws.receive_json_from(timeout=5))["type"] == "auth_ok"
    await ws.send_to(text_data=message)
    assert (await ws.receive_json_from(timeout=5))["error"]["code"] == "BAD_REQUEST"
    await ws.send_json_to({"type": "echo", "text": "still here"})
    assert (await ws.receive_json_from(timeout=5))["text"] == "still here"
    await ws.disconnect()


@pytest.mark.parametrize("message", ["{not json", "x" * (70 * 1024), '["a", "list"]', "é" * 40_000])
async def test_anything_but_an_auth_message_before_authenticating_closes_with_4401(message):
    ws = await connected()
    await ws.send_to(text_data=message)
    assert await closed_with(ws) == CLOSE_UNAUTHENTICATED


async def test_a_token_revoked_after_authenticating_ends_the_socket_at_the_next_message():
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts import tokens

    _, token = await user_and_token()
    ws = await connected()
    await ws.send_json_to({"type": "auth", "token": token})
    assert (await ws.receive_json_from(timeout=5))["type"] == "auth_ok"
    await ws.send_json_to({"type": "echo", "text": "before"})
    assert (await ws.receive_json_from(timeout=5))["text"] == "before"
    await sync_to_async(tokens.deny_access_token)(AccessToken(token).payload)  # logout elsewhere
    await ws.send_json_to({"type": "echo", "text": "after"})
    assert await closed_with(ws) == CLOSE_UNAUTHENTICATED


async def test_a_user_deactivated_after_authenticating_is_cut_off():
    user, token = await user_and_token()
    ws = await connected()
    await ws.send_json_to({"type": "auth", "token": token})
    await ws.receive_json_from(timeout=5)

    @sync_to_async
    def deactivate():
        user.is_active = False
        user.save(update_fields=["is_active"])

    await deactivate()
    await ws.send_json_to({"type": "echo", "text": "after"})
    assert await closed_with(ws) == CLOSE_UNAUTHENTICATED


async def test_auth_messages_are_rate_limited_per_address():
    """30 guesses a minute from one address; past that even a good token is refused until the window ends."""
    for _ in range(30):
        ws = await connected()
        await ws.send_json_to({"type": "auth", "token": "guess"})
        assert await closed_with(ws) == CLOSE_UNAUTHENTICATED
    _, token = await user_and_token()
    ws = await connected()
    await ws.send_json_to({"type": "auth", "token": token})
    assert await closed_with(ws) == CLOSE_UNAUTHENTICATED
