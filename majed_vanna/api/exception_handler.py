"""The single place that turns exceptions into the error envelope (contract §1).

Handles ``ApplicationError`` subclasses, DRF's exceptions, Django's ``Http404``, ``PermissionDenied``,
``ValidationError``, ``RequestDataTooBig``, ``SuspiciousOperation``/``BadRequest`` (400) and ``RecursionError``
(400: input nested too deeply for a decoder; the parsers refuse it earlier, this is the last line of defence).
A database or Redis that cannot be reached is 503 SERVICE_UNAVAILABLE with ``Retry-After`` (the request may be retried;
contract §1). Anything else is logged with the request id and answered 500 INTERNAL_ERROR without
exception text.
"""

import logging

from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework import exceptions as drf
from rest_framework.response import Response

from majed_vanna.exceptions import ApplicationError

from .envelope import error_envelope

logger = logging.getLogger("majed_vanna.errors")

# A dependency that is down or unreachable: retrying later can succeed.
DEPENDENCY_ERRORS = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError, ConnectionInterrupted)
DEPENDENCY_RETRY_AFTER_SECONDS = 30

_DRF_CODES = [
    (drf.ValidationError, 422, "VALIDATION_ERROR", "Invalid input parameters"),
    (drf.ParseError, 400, "BAD_REQUEST", "Malformed request body"),
    (drf.UnsupportedMediaType, 400, "BAD_REQUEST", None),
    (drf.NotAuthenticated, 401, "AUTHENTICATION_FAILED", None),
    (drf.AuthenticationFailed, 401, "AUTHENTICATION_FAILED", None),
    (drf.PermissionDenied, 403, "PERMISSION_DENIED", None),
    (drf.NotFound, 404, "RESOURCE_NOT_FOUND", "Resource not found"),
    (drf.MethodNotAllowed, 405, "METHOD_NOT_ALLOWED", None),
    (drf.NotAcceptable, 406, "NOT_ACCEPTABLE", None),
    (drf.Throttled, 429, "RATE_LIMIT_EXCEEDED", "Too many requests"),
]


def normalize_details(detail):
    """DRF error detail -> ``{field: [messages]}``; a bare list becomes ``non_field_errors``."""
    if isinstance(detail, dict):
        return {str(key): _messages(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return {"non_field_errors": _messages(detail)}
    return {"non_field_errors": [str(detail)]}


def _messages(value):
    if isinstance(value, dict):
        return {str(key): _messages(item) for key, item in value.items()}
    if isinstance(value, list):
        if any(isinstance(item, dict) for item in value):
            return [_messages(item) for item in value]
        return [str(item) for item in value]
    return [str(value)]


def envelope_for_exception(exc) -> tuple[int, dict, dict]:
    """(status, envelope, headers) for any exception; unknown ones are logged and become a plain 500."""
    headers: dict = {}
    if isinstance(exc, ApplicationError):
        return exc.status_code, error_envelope(exc.code, exc.message, exc.details), dict(exc.headers)
    if isinstance(exc, Http404):
        return 404, error_envelope("RESOURCE_NOT_FOUND", "Resource not found"), headers
    if isinstance(exc, DjangoPermissionDenied):
        return 403, error_envelope("PERMISSION_DENIED", "You do not have permission to perform this action"), headers
    if isinstance(exc, DjangoValidationError):
        details = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return 422, error_envelope("VALIDATION_ERROR", "Invalid input parameters", details), headers
    if isinstance(exc, RequestDataTooBig):
        return 413, error_envelope("PAYLOAD_TOO_LARGE", "Request body is too large"), headers
    if isinstance(exc, RecursionError):
        logger.warning("Input nested too deeply refused (RecursionError)")
        return 400, error_envelope("BAD_REQUEST", "Malformed request body: nested too deeply"), headers
    if isinstance(exc, SuspiciousOperation | BadRequest):
        logger.warning("Bad request refused: %s", type(exc).__name__)
        return 400, error_envelope("BAD_REQUEST", "Bad request"), headers
    for klass, status, code, message in _DRF_CODES:
        if isinstance(exc, klass):
            details = normalize_details(exc.detail) if isinstance(exc, drf.ValidationError) else None
            if isinstance(exc, drf.Throttled):
                headers["Retry-After"] = str(max(1, int(exc.wait or 1)))
            if getattr(exc, "auth_header", None):  # set by DRF on 401s: which scheme to use
                headers["WWW-Authenticate"] = exc.auth_header
            return status, error_envelope(code, message or str(exc.detail), details), headers
    if isinstance(exc, drf.APIException):
        return (
            exc.status_code,
            error_envelope("BAD_REQUEST" if exc.status_code < 500 else "INTERNAL_ERROR", str(exc.detail)),
            headers,
        )
    if isinstance(exc, DEPENDENCY_ERRORS):
        logger.error("Dependency unavailable: %s", type(exc).__name__, exc_info=exc)
        return (
            503,
            error_envelope("SERVICE_UNAVAILABLE", "A dependency is temporarily unavailable; retry later"),
            {"Retry-After": str(DEPENDENCY_RETRY_AFTER_SECONDS)},
        )
    logger.exception("Unhandled exception", exc_info=exc)
    return 500, error_envelope("INTERNAL_ERROR", "An unexpected error occurred"), headers


def api_exception_handler(exc, context):
    status, body, headers = envelope_for_exception(exc)
    response = Response(body, status=status, headers=headers)
    response.enveloped = True
    return response
