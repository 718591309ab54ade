"""The one request policy (contract §1-§4, §6), written once and called by every transport.

DRF views (``EnvelopeAPIMixin.initial``), ``async_api_view`` and WebSocket consumers
(``majed_vanna.ws.PolicyConsumer``) all call these functions, in this order:

1. ``authenticate``: the configured authenticators (JWT, API key, HMAC); bad credentials are 401, none at all
   give an anonymous caller, and more than one scheme in one request (``Authorization``, ``X-API-Key``, the
   HMAC headers) is 401 whichever of them is valid: the caller is never chosen by the classes' order;
2. ``throttle``: the endpoint's named scope at the rate in force (``majed_vanna.api.scopes``), headers recorded
   for the response, 429 with ``Retry-After`` and ``X-RateLimit-*`` over the limit. It runs before the access
   check, so refused calls count too and every answer of a throttled endpoint, 401 and 403 included, carries
   the ``X-RateLimit-*`` headers;
3. ``check_access``: 401 for anonymous callers of non-public endpoints, 403 PASSWORD_CHANGE_REQUIRED, 403 for
   integration clients on ``users_only`` endpoints and for a missing permission (both audited as
   ``permission.denied``);
4. ``idempotency_begin``: ``Idempotency-Key`` on POST (replay, 409, 422); a streaming endpoint refuses the
   header with 422 rather than ignoring it.

An endpoint changes a step only through its declared ``Policy`` (``public``, ``permission``, ``users_only``,
``password_change_ok``, ``scope=None`` for "not throttled here", ``idempotent=False``, ``streaming``), never by
skipping a base class. Every step is blocking I/O (database, cache), so async callers run ``enforce`` in one
thread hop.
"""

import logging
import time
from dataclasses import dataclass

from django.db import connections
from rest_framework import exceptions as drf
from rest_framework.request import Request
from rest_framework.settings import api_settings

from majed_vanna.exceptions import (
    AuthenticationFailedError,
    PasswordChangeRequiredError,
    PermissionDeniedError,
    RateLimitExceededError,
    ValidationFailedError,
)

from . import idempotency
from .callers import caller_key
from .permissions import principal_permissions
from .scopes import rate_for
from .throttles import hit, record_rate_state

logger = logging.getLogger(__name__)

NO_CREDENTIALS = "Authentication credentials were not provided"
BEARER_CHALLENGE = 'Bearer realm="api"'
CONFLICTING_CREDENTIALS = (
    "Conflicting credentials: send exactly one of Authorization, X-API-Key or the HMAC signature headers "
    "(X-Client-Id, X-Timestamp, X-Nonce, X-Signature)"
)

# The credential schemes a request may carry (contract §5), by the ``META`` keys that announce each.
CREDENTIAL_SCHEMES = {
    "Authorization": ("HTTP_AUTHORIZATION",),
    "X-API-Key": ("HTTP_X_API_KEY",),
    "HMAC signature": ("HTTP_X_CLIENT_ID", "HTTP_X_TIMESTAMP", "HTTP_X_NONCE", "HTTP_X_SIGNATURE"),
}


@dataclass(frozen=True)
class Policy:
    """What one endpoint (or WebSocket message type) requires; the defaults are the strict ones."""

    public: bool = False  # anonymous callers allowed (credentials, when sent, are still checked)
    permission: str | None = None  # the contract §4 permission the caller needs
    users_only: bool = False  # integration clients refused (403, audited), whatever their permissions
    password_change_ok: bool = False  # reachable while the user must change their password
    scope: str | None = "default"  # the rate-limit scope; None: this endpoint counts its own (login)
    idempotent: bool = True  # honour Idempotency-Key on POST
    streaming: bool = False  # the response streams: an Idempotency-Key cannot be honoured (422)


def _authenticators():
    return [cls() for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES]


def authenticate(request, authenticators=None):
    """Resolve the caller; returns ``request.user`` (anonymous when no credentials were sent).

    ``request`` is a DRF ``Request`` (its view's authenticators run) or a Django ``HttpRequest`` (wrapped with
    ``authenticators``, by default every class in ``DEFAULT_AUTHENTICATION_CLASSES``). The resolved user and
    token are set on the Django request too, so middleware and logs see them.
    """
    if isinstance(request, Request):
        drf_request, django_request = request, request._request
    else:
        authenticators = _authenticators() if authenticators is None else authenticators
        drf_request, django_request = Request(request, authenticators=authenticators), request
    try:
        if drf_request.authenticators and len(credential_schemes(django_request.META)) > 1:
            raise drf.AuthenticationFailed(CONFLICTING_CREDENTIALS, code="conflicting_credentials")
        user, auth = drf_request.user, drf_request.auth
    except drf.AuthenticationFailed as exc:
        exc.auth_header = _challenge(django_request, drf_request.authenticators)
        raise
    django_request.user, django_request.auth = user, auth
    return user


def credential_schemes(meta) -> list[str]:
    """The credential schemes (``CREDENTIAL_SCHEMES``) a request's headers carry, present even when empty."""
    return [scheme for scheme, keys in CREDENTIAL_SCHEMES.items() if any(key in meta for key in keys)]


def _challenge(request, authenticators) -> str:
    for authenticator in authenticators:
        header = authenticator.authenticate_header(request)
        if header:
            return header
    return BEARER_CHALLENGE


def deny(request, permission: str, message: str | None = None):
    """Audit the refusal (``permission.denied``, the caller as actor) and raise 403 PERMISSION_DENIED."""
    from majed_vanna.audit import audit_permission_denied  # late: majed_vanna.audit imports this package

    audit_permission_denied(request=request, permission=permission)
    raise PermissionDeniedError(message)


def check_access(request, policy: Policy) -> None:
    """Authenticated (unless public), password gate, users-only gate, permission; refusals are audited."""
    if policy.public:
        return
    user = request.user
    if not getattr(user, "is_authenticated", False):
        raise AuthenticationFailedError(NO_CREDENTIALS, headers={"WWW-Authenticate": BEARER_CHALLENGE})
    if getattr(user, "must_change_password", False) and not policy.password_change_ok:
        raise PasswordChangeRequiredError()
    if policy.users_only and getattr(user, "integration_client_id", None):
        deny(request, "user_account", "Integration clients cannot use this endpoint.")
    if policy.permission is not None and policy.permission not in principal_permissions(user):
        deny(request, policy.permission)


def throttle(request, policy: Policy) -> None:
    """Count the request against the endpoint's scope for this caller; 429 over the limit.

    An unreachable cache fails open (logged): health must still answer while Redis is down.
    """
    if policy.scope is None:
        return
    chosen = rate_for(policy.scope, getattr(request, "user", None))
    try:
        allowed, state = hit(scope=chosen.counter, identity=caller_key(request), rate=chosen.rate)
    except Exception:
        logger.warning("Rate limit not counted: the cache is unavailable", exc_info=True)
        return
    record_rate_state(request, state)
    if not allowed:
        raise RateLimitExceededError(retry_after=state.reset - int(time.time()), headers=state.headers())


def idempotency_begin(request, policy: Policy):
    """Claim the ``Idempotency-Key`` (or find what to replay); ``None`` when the request has none."""
    if not policy.idempotent or request.method != "POST":
        return None
    if policy.streaming and request.META.get(idempotency.HEADER) is not None:
        raise ValidationFailedError(
            details={"Idempotency-Key": ["Not supported on a streaming endpoint: a stream cannot be replayed."]}
        )
    return idempotency.begin(request)


def enforce(request, policy: Policy):
    """Every step in order; returns the idempotency ``Claim``, a ``Replay`` to answer with, or ``None``."""
    authenticate(request)
    throttle(request, policy)
    check_access(request, policy)
    return idempotency_begin(request, policy)


def release_connections() -> None:
    """Give this thread's database connections back (to the pool, or closed) unless a transaction is open.

    An async request that goes on to wait (an LLM, a stream, a slow probe) must not hold a connection while it
    waits: a thousand waiting chats would hold a thousand. Its next database step takes one again.
    """
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


def enforce_and_release(request, policy: Policy):
    """``enforce`` for async callers (one thread hop), then ``release_connections``."""
    try:
        return enforce(request, policy)
    finally:
        release_connections()
