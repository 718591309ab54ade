"""One request, one credential scheme (``majed_vanna.api.policy.authenticate``): a request that carries more than
one of ``Authorization``, ``X-API-Key`` and the HMAC headers (``X-Client-Id``, ``X-Timestamp``, ``X-Nonce``,
``X-Signature``) is refused with 401 AUTHENTICATION_FAILED, whichever of them is valid. Before, a valid API key
won over a ``Basic`` header or bogus signature headers, and a JWT won over an API key: the caller's identity
depended on which class happened to run first."""

import pytest
from channels.testing import WebsocketCommunicator
from django.urls import path
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from integrations.services import client_create
from majed_vanna.api.policy import CONFLICTING_CREDENTIALS
from majed_vanna.asgi import websocket_application
from majed_vanna.roles import Role
from majed_vanna.ws import CLOSE_UNAUTHENTICATED, PolicyConsumer

CONFIG = "/api/v1/config"  # DRF; integration clients may read it with read_config
HEALTH = "/api/v1/health"  # an async view, public: credentials sent are still checked


@pytest.fixture
def api_key(db) -> str:
    return client_create(name="Ambiguity", permissions=["read_config", "use_chat"]).api_key


@pytest.fixture
def jwt(db) -> str:
    return str(RefreshToken.for_user(UserFactory(role=Role.ADMIN)).access_token)


def _get(url: str, **headers):
    return APIClient(REMOTE_ADDR="192.0.2.50").get(url, **headers)


def test_each_scheme_alone_is_accepted(api_key, jwt):
    assert _get(CONFIG, HTTP_X_API_KEY=api_key).status_code == 200
    assert _get(CONFIG, HTTP_AUTHORIZATION=f"Bearer {jwt}").status_code == 200


OTHER_CREDENTIALS = {
    "basic-authorization": {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"},
    "bogus-signature": {"HTTP_X_SIGNATURE": "00" * 32},
    "bogus-client-id": {"HTTP_X_CLIENT_ID": "mvc_nobody"},
    "all-hmac-headers": {
        "HTTP_X_CLIENT_ID": "mvc_nobody",
        "HTTP_X_TIMESTAMP": "1700000000",
        "HTTP_X_NONCE": "n" * 16,
        "HTTP_X_SIGNATURE": "00" * 32,
    },
}


@pytest.mark.parametrize("url", [CONFIG, HEALTH])
@pytest.mark.parametrize("other", OTHER_CREDENTIALS.values(), ids=OTHER_CREDENTIALS.keys())
def test_a_valid_api_key_with_another_scheme_is_refused(api_key, url, other):
    response = _get(url, HTTP_X_API_KEY=api_key, **other)
    assert response.status_code == 401, response.content
    error = response.json()["error"]
    assert error["code"] == "AUTHENTICATION_FAILED" and error["message"] == CONFLICTING_CREDENTIALS
    assert response.headers.get("WWW-Authenticate")


@pytest.mark.parametrize("url", [CONFIG, HEALTH])
def test_a_valid_jwt_with_an_api_key_or_signature_headers_is_refused(api_key, jwt, url):
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {jwt}"}
    assert _get(url, HTTP_X_API_KEY=api_key, **bearer).status_code == 401
    assert _get(url, HTTP_X_NONCE="n" * 16, **bearer).status_code == 401


def test_endpoints_that_read_no_credentials_ignore_them(api_key):
    """Login and refresh authenticate nobody (their credentials are in the body): headers are not read."""
    response = APIClient().post(
        "/api/v1/auth/login",
        {"username": "nobody@example.com", "password": "not-the-password"},
        format="json",
        HTTP_X_API_KEY=api_key,
        HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz",
    )
    assert response.status_code == 401
    assert response.json()["error"]["message"] != CONFLICTING_CREDENTIALS


class ChatConsumer(PolicyConsumer):
    permission = "use_chat"


APP = websocket_application([path("ws/test/chat/", ChatConsumer.as_asgi())])


@pytest.mark.django_db(transaction=True)
async def test_a_websocket_auth_message_with_both_a_token_and_an_api_key_closes_with_4401():
    from asgiref.sync import sync_to_async

    key = await sync_to_async(lambda: client_create(name="WS ambiguity", permissions=["use_chat"]).api_key)()
    token = await sync_to_async(lambda: str(RefreshToken.for_user(UserFactory(role=Role.ADMIN)).access_token))()
    for credentials, accepted in (({"api_key": key}, True), ({"token": token, "api_key": key}, False)):
        ws = WebsocketCommunicator(APP, "/ws/test/chat/", headers=[(b"origin", b"http://localhost")])
        assert (await ws.connect())[0]
        await ws.send_json_to({"type": "auth", **credentials})
        if accepted:
            assert (await ws.receive_json_from(timeout=5))["type"] == "auth_ok"
            await ws.disconnect()
        else:
            closed = await ws.receive_output(timeout=5)
            assert closed == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}
