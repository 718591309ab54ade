"""Plain ``async def`` API views under the same request policy as every DRF endpoint (contract §1-§4, §6).

DRF views are synchronous. Endpoints that wait on something (health checks, connection tests, chat) are
``async def`` Django views; ``async_api_view`` runs ``majed_vanna.api.policy.enforce`` for them (in one thread
hop: authentication, password gate, audited permission check, throttle by named scope, ``Idempotency-Key``),
answers 405 with ``Allow``, and shapes errors with ``envelope_for_exception``.

::

    @async_api_view(methods=["GET"], permission="system_admin", throttle_scope="health.detailed",
                    schema={"GET": {"responses": DetailedHealthSerializer, "summary": "..."}})
    async def health_detailed(request):
        return ApiResult(await build_report(), message="Detailed health")

The view returns ``ApiResult``, plain data (200, default message) or any ``HttpResponseBase``. A view that
streams declares ``streaming=True``: it returns a ``StreamingHttpResponse`` (never stored for replays), and a
request with an ``Idempotency-Key`` is refused with 422 before the stream starts.
"""

import functools
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpResponseBase, JsonResponse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions as drf
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.views import APIView

from . import idempotency
from .envelope import success_envelope
from .exception_handler import envelope_for_exception
from .policy import BEARER_CHALLENGE, Policy, enforce_and_release

logger = logging.getLogger(__name__)


@dataclass
class ApiResult:
    data: Any = None
    message: str | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


def _json(status: int, body: dict, headers: dict | None = None) -> JsonResponse:
    response = JsonResponse(body, status=status, json_dumps_params={"default": str})
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _describe(fn, streaming: bool) -> dict:
    """What ``OPTIONS`` answers, in the shape of DRF's ``EndpointMetadata``."""
    return {
        "name": fn.__name__.replace("_", " ").strip().capitalize(),
        "description": (fn.__doc__ or "").strip(),
        "renders": ["text/event-stream" if streaming else "application/json"],
        "parses": ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"],
    }


def _schema_view(fn, methods: tuple[str, ...], schema: dict, public: bool) -> type[APIView]:
    """A DRF class that only documents the endpoint for drf-spectacular (it is never routed)."""
    attrs: dict[str, Any] = {
        "__doc__": fn.__doc__,
        "permission_classes": [AllowAny] if public else [IsAuthenticated],
    }
    for method in methods:
        if method in ("HEAD", "OPTIONS"):
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
    throttle_scope: str | None,
    allow_when_password_change_required: bool = False,
    users_only: bool = False,
    idempotent: bool = True,
    streaming: bool = False,
    schema: dict[str, dict] | None = None,
):
    """Wrap an ``async def view(request, *args, **kwargs)`` in the request policy and the envelope.

    ``public``: anonymous callers allowed (credentials, when sent, are still checked). ``permission``: the
    contract §4 permission the caller needs. ``throttle_scope``: the endpoint's named rate-limit scope
    (``majed_vanna.api.scopes``), always given; ``None`` declares the endpoint unthrottled (no cache call, no
    ``X-RateLimit-*`` headers): only for what must answer whatever the cache does, i.e. liveness.
    ``schema``: ``extend_schema`` keyword arguments per HTTP method.
    """
    allowed = tuple(dict.fromkeys(m.upper() for m in methods))
    if "GET" in allowed and "HEAD" not in allowed:
        allowed = (*allowed, "HEAD")
    allowed = (*allowed, "OPTIONS")  # described like DRF endpoints describe themselves, after the same policy
    policy = Policy(
        public=public,
        permission=permission,
        users_only=users_only,
        password_change_ok=allow_when_password_change_required,
        scope=throttle_scope,
        idempotent=idempotent,
        streaming=streaming,
    )

    def decorator(fn: Callable[..., Awaitable[Any]]):
        @functools.wraps(fn)
        async def view(request, *args, **kwargs):
            claim = None
            try:
                if request.method not in allowed:
                    raise drf.MethodNotAllowed(request.method)
                outcome = await sync_to_async(enforce_and_release)(request, policy)
                if isinstance(outcome, idempotency.Replay):
                    response = _json(outcome.status, success_envelope(outcome.data, outcome.message))
                    response["Idempotent-Replayed"] = "true"
                    return response
                claim = outcome
                if request.method == "OPTIONS":
                    return _json(200, success_envelope(_describe(fn, streaming)), {"Allow": ", ".join(allowed)})
                result = await fn(request, *args, **kwargs)
            except Exception as exc:
                if claim is not None:
                    await sync_to_async(idempotency.release, thread_sensitive=False)(claim)
                status, body, headers = envelope_for_exception(exc)
                if status == 405:
                    headers["Allow"] = ", ".join(allowed)
                if status == 401:
                    headers.setdefault("WWW-Authenticate", BEARER_CHALLENGE)
                return _json(status, body, headers)
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
            return _json(result.status, success_envelope(result.data, result.message), result.headers)

        view.csrf_exempt = True
        view.cls = _schema_view(fn, allowed, schema or {}, public)  # read by drf-spectacular only
        view.initkwargs = {}
        view.policy = policy
        return view

    return decorator
