"""WebSocket connections under the one request policy (contract §5 "Chat": WebSocket).

``WebSocketContextMiddleware`` (wired in ``asgi.py``) gives every connection what the HTTP middleware gives a
request: a request id, the client's address (the socket peer, or ``TRUSTED_PROXY_COUNT`` proxies'
``X-Forwarded-For``) and the user agent.

``PolicyConsumer`` is the base of authenticated consumers. The first message authenticates (``{"type": "auth",
"token": JWT}`` or ``{"type": "auth", "api_key": ...}``, never both (4401); never a token in the URL) through
``majed_vanna.api.policy``, so the same principals resolve by the same rules as over HTTP (deny-listed or
expired tokens, revoked clients, IP ranges, password-change gate, permission with audit). Bad or missing
credentials close the socket with 4401 (so does anything else sent before authenticating, and 10 s of
silence), a refused permission with 4403; auth messages count per address in the ``auth.websocket`` scope.
The credential is checked again on every later message (a revoked token or client, a deactivated user or a
permission taken away closes the socket); each is throttled in the consumer's scope like an HTTP request
(over the limit: an ``error`` event ``RATE_LIMIT_EXCEEDED``, the socket stays open) and handed to
``handle(content)``.
"""

import asyncio
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.http import HttpRequest

from majed_vanna.api import policy
from majed_vanna.api.exception_handler import envelope_for_exception
from majed_vanna.api.parsers import JSONTooDeep, loads_json
from majed_vanna.exceptions import ApplicationError, AuthenticationFailedError
from majed_vanna.request_context import (
    accept_request_id,
    client_ip_from_meta,
    client_ip_var,
    new_request_id,
    request_id_var,
    user_agent_var,
)

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_INTERNAL_ERROR = 1011
CLOSE_TRY_AGAIN_LATER = 1013
AUTH_SCOPE = "auth.websocket"
MAX_MESSAGE_BYTES = 64 * 1024


class WebSocketContextMiddleware:
    """ASGI middleware for ``websocket`` scopes: ``scope["mv"]`` holds the request id, client IP, user agent."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope.get("headers", [])}
        peer = (scope.get("client") or [None])[0]
        meta = {"REMOTE_ADDR": peer, "HTTP_X_FORWARDED_FOR": headers.get("x-forwarded-for", "")}
        scope = {
            **scope,
            "mv": {
                "request_id": accept_request_id(headers.get("x-request-id")),
                "client_ip": client_ip_from_meta(meta, settings.TRUSTED_PROXY_COUNT),
                "user_agent": headers.get("user-agent", "").replace("\x00", "")[:512],
            },
        }
        return await self.inner(scope, receive, send)


def _credential_request(scope: dict, content: dict) -> HttpRequest:
    """An ``HttpRequest`` carrying the auth message's credential as the matching header, so the configured
    DRF authenticators (the HTTP ones) decide."""
    context = scope.get("mv", {})
    request = HttpRequest()
    request.method = "GET"
    request.path = request.path_info = scope.get("path", "")
    request.META = {"REMOTE_ADDR": context.get("client_ip"), "HTTP_USER_AGENT": context.get("user_agent", "")}
    token, api_key = content.get("token"), content.get("api_key")
    if token is not None:  # both sent: the policy refuses the conflict (4401), as over HTTP
        request.META["HTTP_AUTHORIZATION"] = f"Bearer {token}" if isinstance(token, str) else ""
    if api_key is not None:
        request.META["HTTP_X_API_KEY"] = api_key if isinstance(api_key, str) else ""
    request.client_ip = context.get("client_ip")
    request.request_id = context.get("request_id")
    return request


class PolicyConsumer(AsyncJsonWebsocketConsumer):
    """Authenticate by the first message, then throttle and dispatch each message to ``handle``."""

    permission: str | None = None
    throttle_scope: str = "default"
    users_only = False
    auth_timeout_seconds = 10

    async def connect(self):
        self.principal = None
        self.request = None
        await self.accept()
        self._auth_deadline = asyncio.get_running_loop().call_later(self.auth_timeout_seconds, self._auth_timed_out)

    def _auth_timed_out(self):
        if self.principal is None:
            self._closing = asyncio.ensure_future(self.close(code=CLOSE_UNAUTHENTICATED))

    async def disconnect(self, code):
        self._auth_deadline.cancel()

    def _policy(self) -> policy.Policy:
        return policy.Policy(permission=self.permission, users_only=self.users_only, scope=self.throttle_scope)

    def _set_context(self) -> None:
        context = self.scope.get("mv", {})
        request_id_var.set(context.get("request_id") or new_request_id())
        client_ip_var.set(context.get("client_ip"))
        user_agent_var.set(context.get("user_agent", ""))

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        self._set_context()
        content, problem = self._decode(text_data)
        if self.principal is None:
            # Before authentication the only message accepted is a well-formed auth message: anything else
            # closes the socket (an unauthenticated peer gets no error events to probe with).
            if problem is not None:
                await self.close(code=CLOSE_UNAUTHENTICATED)
            else:
                await self._authenticate(content)
            return
        if problem is not None:
            await self.send_error(ApplicationError(problem), code="BAD_REQUEST")
            return
        await self.receive_json(content)

    @staticmethod
    def _decode(text_data) -> tuple[dict | None, str | None]:
        """(message, None), or (None, what is wrong with it)."""
        if text_data is None or len(text_data.encode("utf-8", "surrogatepass")) > MAX_MESSAGE_BYTES:
            return None, "Messages are JSON text of at most 64 KiB"
        try:
            content = loads_json(text_data)  # absurd nesting is refused before decoding (MAX_JSON_DEPTH)
        except JSONTooDeep as exc:
            return None, str(exc)
        except ValueError:
            return None, "Malformed JSON"
        if not isinstance(content, dict):
            return None, "A message is a JSON object with a type"
        return content, None

    async def receive_json(self, content, **kwargs):
        # The principal is checked again on every message: a token revoked, a user deactivated or a client
        # revoked since the socket opened (or a permission taken away) ends the conversation here.
        if not await self._still_allowed():
            return
        try:
            await database_sync_to_async(policy.throttle)(self.request, self._policy())
        except ApplicationError as exc:
            await self.send_error(exc)
            return
        await self.handle(content)

    async def _authenticate(self, content: dict) -> None:
        if content.get("type") != "auth":
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        request = _credential_request(self.scope, content)
        if await self._refused(request, throttled=True):
            return
        self._auth_deadline.cancel()
        self.request, self.principal = request, request.user
        self._credential = {key: content[key] for key in ("token", "api_key") if key in content}
        await self.send_json({"type": "auth_ok", **self.principal_summary()})

    async def _still_allowed(self) -> bool:
        request = _credential_request(self.scope, self._credential)
        if await self._refused(request, throttled=False):
            return False
        self.request, self.principal = request, request.user
        return True

    async def _refused(self, request, *, throttled: bool) -> bool:
        """Authenticate ``request`` and check access; on refusal close the socket (4401 bad or missing
        credentials, 4403 no permission, 1013 a dependency is down, 1011 anything else, logged) and say so.
        Auth messages are counted per address in the ``auth.websocket`` scope."""
        try:
            await database_sync_to_async(self._authorize)(request, self._access(), throttled)
        except Exception as exc:
            status, _, _ = envelope_for_exception(exc)  # logs what is unexpected, never echoes it
            code = {401: CLOSE_UNAUTHENTICATED, 403: CLOSE_FORBIDDEN, 429: CLOSE_UNAUTHENTICATED}.get(status)
            if code is None:
                code = CLOSE_TRY_AGAIN_LATER if status == 503 else CLOSE_INTERNAL_ERROR
            await self.close(code=code)
            return True
        return False

    def _access(self) -> policy.Policy:
        return policy.Policy(permission=self.permission, users_only=self.users_only, scope=None)

    @staticmethod
    def _authorize(request, access: policy.Policy, throttled: bool) -> None:
        if throttled:  # before the credential is looked at: guessing tokens costs the guesser's budget
            policy.throttle(request, policy.Policy(scope=AUTH_SCOPE))
        user = policy.authenticate(request)
        if not getattr(user, "is_authenticated", False):
            raise AuthenticationFailedError(policy.NO_CREDENTIALS)
        policy.check_access(request, access)

    def principal_summary(self) -> dict:
        client_id = getattr(self.principal, "integration_client_id", None)
        if client_id:
            return {"principal_type": "integration_client", "client_id": client_id}
        return {"principal_type": "user", "user_id": str(self.principal.pk)}

    async def send_error(self, exc, code: str | None = None) -> None:
        if code is not None:
            error = {"code": code, "message": str(getattr(exc, "message", "") or "Bad request")}
        else:
            _, body, headers = envelope_for_exception(exc)
            error = body["error"]
            if "Retry-After" in headers:
                error["retry_after"] = int(headers["Retry-After"])
        await self.send_json({"type": "error", "error": error})

    async def handle(self, content: dict) -> None:
        """One authenticated, throttled message; subclasses answer the types they know."""
        await self.send_error(ApplicationError("Unknown message type"), code="BAD_REQUEST")
