"""DRF authentication for integration clients (contract §5 "Integration clients"); registered after JWT.

- ``APIKeyAuthentication``: ``X-API-Key: mvk_<prefix>.<random>``.
- ``HMACSignatureAuthentication``: ``X-Client-Id``, ``X-Timestamp``, ``X-Nonce``, ``X-Signature`` over
  ``METHOD\\nPATH\\nSORTED_QUERY\\nTIMESTAMP\\nNONCE\\nSHA256_HEX(BODY)`` (see ``integrations.signing``).

A request without these headers is passed on (``None``); one that carries them but fails is refused with 401
AUTHENTICATION_FAILED at once, never treated as anonymous (reasons: ``integrations.verification``). A request
that also carries a valid JWT is authenticated by the JWT class first, which runs before these.
"""

from django.core.exceptions import RequestDataTooBig
from django.http.request import RawPostDataException
from rest_framework import exceptions as drf_exceptions
from rest_framework.authentication import BaseAuthentication

from majed_vanna.api.callers import client_ip_of
from majed_vanna.exceptions import PayloadTooLargeError

from . import signing
from .verification import (
    API_KEY_CHALLENGE,
    HMAC_CHALLENGE,
    INVALID,
    SIGNATURE_HEADERS,
    IntegrationAuthenticationFailed,
    SignedParts,
    refuse,
    verify_api_key,
    verify_signature_headers,
)

__all__ = ["APIKeyAuthentication", "HMACSignatureAuthentication", "IntegrationAuthenticationFailed"]


class _BodyTooLarge(PayloadTooLargeError, drf_exceptions.APIException):
    pass


def _header(request, name: str) -> str | None:
    return request.META.get("HTTP_" + name.upper().replace("-", "_"))


def client_ip(request) -> str | None:
    """The caller's address as the core middleware resolved it (``TRUSTED_PROXY_COUNT``; ``None``: unknown,
    which no IP range admits). Never ``REMOTE_ADDR`` as it is: a server's ``--proxy-headers`` may have put a
    forged header there."""
    return client_ip_of(request._request)


def raw_body(request) -> bytes:
    """The exact bytes received (read before DRF parses; DRF then parses these same bytes)."""
    try:
        return request._request.body
    except RequestDataTooBig as exc:
        raise _BodyTooLarge() from exc
    except RawPostDataException as exc:  # something parsed the stream first: the body cannot be verified
        raise refuse(INVALID, "body already consumed", None, HMAC_CHALLENGE) from exc


def path_candidates(request) -> list[str]:
    """The request path as the client signed it: PATH is the path as sent (contract §5).

    When the server passes the raw path on (daphne's ASGI ``raw_path``, gunicorn's ``RAW_URI``), only that
    is accepted, byte for byte. Otherwise (Django's test client, plain WSGI servers) the raw form is lost, so
    the decoded path and its normal percent-encoded form (``signing.encode_path``) are accepted: both name
    the same resource and a nonce is accepted once, so neither lets through anything the client did not sign.
    """
    scope = getattr(request._request, "scope", None)
    raw = scope.get("raw_path") if isinstance(scope, dict) else None
    if isinstance(raw, bytes) and raw:
        return [raw.decode("latin-1")]
    for key in ("RAW_URI", "REQUEST_URI"):
        if request.META.get(key):
            return [request.META[key].split("?", 1)[0]]
    decoded = request._request.path
    return list(dict.fromkeys([decoded, signing.encode_path(decoded)]))


class APIKeyAuthentication(BaseAuthentication):
    """``X-API-Key``: found by its public prefix, compared by SHA-256 hash in constant time."""

    def authenticate(self, request):
        api_key = _header(request, signing.HEADER_API_KEY)
        if api_key is None:
            return None
        return verify_api_key(api_key, client_ip=client_ip(request))

    def authenticate_header(self, request):
        return API_KEY_CHALLENGE


class HMACSignatureAuthentication(BaseAuthentication):
    """Signed requests: ±300 s window, each nonce accepted once (shared cache), constant-time compare."""

    def authenticate(self, request):
        values = {name: _header(request, name) for name in SIGNATURE_HEADERS}
        if all(value is None for value in values.values()):
            return None
        parts = SignedParts(
            method=request.method,
            paths=path_candidates(request),
            query=request.META.get("QUERY_STRING", ""),
            body=raw_body(request),
        )
        return verify_signature_headers(values, parts=parts, client_ip=client_ip(request))

    def authenticate_header(self, request):
        return HMAC_CHALLENGE
