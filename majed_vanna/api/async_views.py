"""Plain ``async def`` API views with the behaviour every DRF endpoint has (contract §1-§3, §6).

DRF views are synchronous. Endpoints that wait on something (health checks, chat) are ``async def`` Django
views; ``async_api_view`` gives them the same envelope, authentication (every class in
``REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]``: JWT, API key, HMAC), password-change gate,
permission check (denials audited), throttle with ``X-RateLimit-*`` headers, ``Idempotency-Key`` on POST,
405 with ``Allow``, and errors shaped by ``envelope_for_exception``. Blocking work (ORM, cache) runs off the
event loop.

::

    @async_api_view(methods=["GET"], permission="system_admin", throttle_rate="100/hour",
                    schema={"GET": {"responses": DetailedHealthSerializer, "summary": "..."}})
    async def health_detailed(request):
        return ApiResult(await build_report(), message="Detailed health")

The view returns ``ApiResult``, plain data (200, default message) or any ``HttpResponseBase`` (e.g. a
``StreamingHttpResponse``; passed through untouched and never stored for idempotent replay).
"""

import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpResponseBase, JsonResponse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions as drf
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from majed_vanna.exceptions import (
    AuthenticationFailedError,
    PasswordChangeRequiredError,
    PermissionDeniedError,
    RateLimitExceededError,
)

from . import idempotency
from .callers import caller_key
from .envelope import success_envelope
from .exception_handler import envelope_for_exception
from .permissions import principal_permissions
from .throttles import default_rate, hit, record_rate_state

logger = logging.getLogger(__name__)


@dataclass
class ApiResult:
    data: Any = None
    message: str | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


def _authenticate_sync(request):
    authenticators = [cls() for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    drf_request = Request(request, authenticators=authenticators)
    try:
        return drf_request.user, drf_request.auth
    except drf.AuthenticationFailed as exc:
        exc.auth_header = _authenticate_header(request, authenticators)
        raise


def _authenticate_header(request, authenticators) -> str | None:
    for authenticator in authenticators:
        header = authenticator.authenticate_header(request)
        if header:
            return header
    return None


async def authenticate_async(request):
    """Run the configured DRF authenticators off the event loop; sets and returns ``request.user``.

    Invalid credentials raise (401); no credentials give an anonymous user.
    """
    user, auth = await sync_to_async(_authenticate_sync)(request)
    request.user, request.auth = user, auth
    return user


async def check_permission_async(request, permission: str | None) -> None:
    if permission is None or permission in principal_permissions(request.user):
        return
    from majed_vanna.audit import audit_permission_denied  # late: majed_vanna.audit imports this package

    await sync_to_async(audit_permission_denied)(request=request, permission=permission)
    raise PermissionDeniedError()


async def throttle_async(request, *, scope: str, rate: str | None = None) -> None:
    """Count this request against ``scope`` for the caller; 429 with ``Retry-After`` over the limit."""
    # Thread-sensitive: the runtime configuration may read the database, and only the request's own thread
    # has its connection closed when the request finishes (a pool thread would keep it open for good).
    rate = rate or await sync_to_async(default_rate)()
    try:
        allowed, state = await sync_to_async(hit, thread_sensitive=False)(
            scope=scope, identity=caller_key(request), rate=rate
        )
    except Exception:  # the cache (Redis) is down: serve (health must still report) rather than 500
        logger.warning("Rate limit not counted: the cache is unavailable", exc_info=True)
        return
    record_rate_state(request, state)
    if not allowed:
        raise RateLimitExceededError(retry_after=state.reset - int(time.time()))


def _json(status: int, body: dict, headers: dict | None = None) -> JsonResponse:
    response = JsonResponse(body, status=status, json_dumps_params={"default": str})
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _schema_view(fn, methods: tuple[str, ...], schema: dict, public: bool) -> type[APIView]:
    """A DRF class that only documents the endpoint for drf-spectacular (it is never routed)."""
    attrs: dict[str, Any] = {
        "__doc__": fn.__doc__,
        "permission_classes": [AllowAny] if public else [IsAuthenticated],
    }
    for method in methods:
        if method == "HEAD":
            continue

        def handler(self, request, *args, **kwargs):
            # Documentation only; requests are served by the async view. No docstring here: the
            # operation's description is the view function's docstring (the class's ``__doc__``).
            raise NotImplementedError

        handler.__name__ = method.lower()
        attrs[method.lower()] = extend_schema(**schema.get(method, {}))(handler)
    return type(f"{fn.__name__.title().replace('_', '')}Schema", (APIView,), attrs)


def async_api_view(
    *,
    methods: Iterable[str] = ("GET",),
    permission: str | None = None,
    public: bool = False,
    throttle_rate: str | None = None,
    throttle_scope: str | None = None,
    allow_when_password_change_required: bool = False,
    schema: dict[str, dict] | None = None,
):
    """Wrap an ``async def view(request, *args, **kwargs)`` in the API's common behaviour.

    ``public``: anonymous callers allowed (credentials, when sent, are still checked). ``permission``: the
    contract §4 permission the caller needs. ``throttle_rate``: e.g. ``"100/hour"`` (default: the global
    default rate). ``schema``: ``extend_schema`` keyword arguments per HTTP method, for the OpenAPI document.
    """
    allowed = tuple(dict.fromkeys(m.upper() for m in methods))
    if "GET" in allowed and "HEAD" not in allowed:
        allowed = (*allowed, "HEAD")

    def decorator(fn: Callable[..., Awaitable[Any]]):
        scope = throttle_scope or f"{fn.__module__}.{fn.__name__}"

        @functools.wraps(fn)
        async def view(request, *args, **kwargs):
            claim = None
            try:
                if request.method not in allowed:
                    raise drf.MethodNotAllowed(request.method)
                user = await authenticate_async(request)
                if not public:
                    if not getattr(user, "is_authenticated", False):
                        raise AuthenticationFailedError("Authentication credentials were not provided")
                    if getattr(user, "must_change_password", False) and not allow_when_password_change_required:
                        raise PasswordChangeRequiredError()
                    await check_permission_async(request, permission)
                await throttle_async(request, scope=scope, rate=throttle_rate)
                outcome = await sync_to_async(idempotency.begin, thread_sensitive=False)(request)
                if isinstance(outcome, idempotency.Replay):
                    response = _json(outcome.status, success_envelope(outcome.data, outcome.message))
                    response["Idempotent-Replayed"] = "true"
                    return response
                claim = outcome
                result = await fn(request, *args, **kwargs)
            except Exception as exc:
                if claim is not None:
                    await sync_to_async(idempotency.release, thread_sensitive=False)(claim)
                status, body, headers = envelope_for_exception(exc)
                if status == 405:
                    headers["Allow"] = ", ".join(allowed)
                if status == 401:
                    headers.setdefault("WWW-Authenticate", 'Bearer realm="api"')
                response = _json(status, body, headers)
                return response
            if isinstance(result, HttpResponseBase):
                if claim is not None:
                    await sync_to_async(idempotency.release, thread_sensitive=False)(claim)
                return result
            if not isinstance(result, ApiResult):
                result = ApiResult(result)
            if claim is not None and result.status < 400:
                await sync_to_async(idempotency.finish, thread_sensitive=False)(
                    claim, status=result.status, data=result.data, message=result.message
                )
            elif claim is not None:
                await sync_to_async(idempotency.release, thread_sensitive=False)(claim)
            response = _json(result.status, success_envelope(result.data, result.message), result.headers)
            return response

        view.csrf_exempt = True
        view.cls = _schema_view(fn, allowed, schema or {}, public)  # read by drf-spectacular only
        view.initkwargs = {}
        return view

    return decorator
