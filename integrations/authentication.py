"""DRF authentication for integration clients (contract §5 "Integration clients").

- ``APIKeyAuthentication``: ``X-API-Key: mvk_<prefix>.<random>``.
- ``HMACSignatureAuthentication``: ``X-Client-Id``, ``X-Timestamp``, ``X-Nonce``, ``X-Signature`` over
  ``METHOD\\nPATH\\nSORTED_QUERY\\nTIMESTAMP\\nNONCE\\nSHA256_HEX(BODY)`` (see ``integrations.signing``).

A request without these headers is passed on (``None``); a request that carries them but fails is refused
with 401 AUTHENTICATION_FAILED at once, never treated as anonymous. ``error.details.reason`` is ``expired``
when the timestamp is outside ±300 s or the client is past its ``expires_at`` (told only to a caller whose
key or signature was right), else ``invalid``: unknown client, wrong key or signature, revoked, replayed
nonce, or a request from outside the client's IP ranges. The precise cause is logged, never sent.
"""

import hmac
import ipaddress
import logging
import re
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.http.request import RawPostDataException
from rest_framework import exceptions as drf_exceptions
from rest_framework.authentication import BaseAuthentication

from majed_vanna.exceptions import AuthenticationFailedError, PayloadTooLargeError

from . import crypto, selectors, services, signing
from .principal import IntegrationPrincipal, client_is_expired

logger = logging.getLogger(__name__)

NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{8,128}$")
TIMESTAMP_RE = re.compile(r"^[0-9]{1,12}$")
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_]{1,40}$")
SIGNATURE_RE = re.compile(r"^[0-9a-f]{64}$")
INVALID, EXPIRED = "invalid", "expired"
_MESSAGES = {
    INVALID: "Invalid integration credentials or signature",
    EXPIRED: "The request timestamp or the client's credentials have expired",
}


class IntegrationAuthenticationFailed(AuthenticationFailedError, drf_exceptions.AuthenticationFailed):
    """401 AUTHENTICATION_FAILED with ``details = {"reason": "invalid"|"expired"}``.

    Also a DRF ``AuthenticationFailed`` so DRF stops trying other classes and keeps the 401."""

    def __init__(self, reason: str, challenge: str):
        super().__init__(_MESSAGES[reason], details={"reason": reason}, headers={"WWW-Authenticate": challenge})


class _BodyTooLarge(PayloadTooLargeError, drf_exceptions.APIException):
    pass


API_KEY_CHALLENGE = 'ApiKey realm="api"'
HMAC_CHALLENGE = 'HMAC-SHA256 realm="api"'


def refuse(
    reason: str, cause: str, client_id: str | None = None, challenge: str = HMAC_CHALLENGE
) -> IntegrationAuthenticationFailed:
    """The 401 to raise; the precise ``cause`` goes to the server log only."""
    logger.warning("Integration authentication refused: %s (client %s)", cause, client_id or "-")
    return IntegrationAuthenticationFailed(reason, challenge)


def _meta(request, name: str) -> str | None:
    return request.META.get("HTTP_" + name.upper().replace("-", "_"))


def _ip_allowed(client, ip: str | None) -> bool:
    if not client.allowed_ip_ranges:
        return True
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(cidr, strict=False) for cidr in client.allowed_ip_ranges)


def accept_client(request, client, challenge: str) -> tuple[IntegrationPrincipal, object]:
    """Checks after the credential itself was verified: revoked, expired, IP ranges; then records use."""
    if client.is_revoked:
        raise refuse(INVALID, "revoked", client.client_id, challenge)
    if client_is_expired(client):
        raise refuse(EXPIRED, "client expired", client.client_id, challenge)
    ip = getattr(request._request, "client_ip", None) or request.META.get("REMOTE_ADDR")
    if not _ip_allowed(client, ip):
        raise refuse(INVALID, f"address {ip} outside allowed ranges", client.client_id, challenge)
    services.client_mark_used(client=client)
    return IntegrationPrincipal(client), client


class APIKeyAuthentication(BaseAuthentication):
    """``X-API-Key``: found by its public prefix, compared by SHA-256 hash in constant time."""

    def authenticate(self, request):
        api_key = _meta(request, signing.HEADER_API_KEY)
        if api_key is None:
            return None
        prefix = crypto.api_key_prefix_of(api_key.strip())
        client = selectors.client_for_api_key_prefix(prefix=prefix) if prefix else None
        if client is None or not crypto.api_key_matches(api_key.strip(), client.api_key_hash):
            raise refuse(INVALID, "unknown or wrong API key", client.client_id if client else None, API_KEY_CHALLENGE)
        return accept_client(request, client, API_KEY_CHALLENGE)

    def authenticate_header(self, request):
        return API_KEY_CHALLENGE


def raw_body(request) -> bytes:
    """The exact bytes received (read before DRF parses, which then reuses them)."""
    try:
        return request._request.body
    except RequestDataTooBig as exc:
        raise _BodyTooLarge() from exc
    except RawPostDataException as exc:  # something parsed the stream first: the body cannot be verified
        raise refuse(INVALID, "body already consumed") from exc


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


class HMACSignatureAuthentication(BaseAuthentication):
    """Signed requests: ±``INTEGRATIONS_SIGNATURE_MAX_AGE_SECONDS`` window, each nonce accepted once
    (shared cache, kept ``INTEGRATIONS_NONCE_TTL_SECONDS`` >= twice the window), constant-time compare."""

    def authenticate(self, request):
        values = {
            name: _meta(request, name)
            for name in (
                signing.HEADER_CLIENT_ID,
                signing.HEADER_TIMESTAMP,
                signing.HEADER_NONCE,
                signing.HEADER_SIGNATURE,
            )
        }
        if all(value is None for value in values.values()):
            return None
        client_id = values[signing.HEADER_CLIENT_ID] or ""
        timestamp = values[signing.HEADER_TIMESTAMP] or ""
        nonce = values[signing.HEADER_NONCE] or ""
        signature = values[signing.HEADER_SIGNATURE] or ""
        if not (CLIENT_ID_RE.match(client_id) and TIMESTAMP_RE.match(timestamp) and NONCE_RE.match(nonce)):
            raise refuse(INVALID, "missing or malformed signature headers")
        if abs(time.time() - int(timestamp)) > settings.INTEGRATIONS_SIGNATURE_MAX_AGE_SECONDS:
            raise refuse(EXPIRED, "timestamp outside the window", client_id)
        client = selectors.client_get(client_id=client_id)
        secret = crypto.decrypt_secret(client.secret_encrypted) if client is not None else None
        if secret is None or not SIGNATURE_RE.match(signature):
            raise refuse(INVALID, "unknown client or malformed signature", client_id)
        if not self._signature_matches(request, secret=secret, timestamp=timestamp, nonce=nonce, given=signature):
            raise refuse(INVALID, "signature mismatch", client_id)
        principal_and_client = accept_client(request, client, HMAC_CHALLENGE)
        if not cache.add(f"nonce:{client_id}:{nonce}", 1, timeout=settings.INTEGRATIONS_NONCE_TTL_SECONDS):
            raise refuse(INVALID, "nonce replayed", client_id)
        return principal_and_client

    @staticmethod
    def _signature_matches(request, *, secret: str, timestamp: str, nonce: str, given: str) -> bool:
        body = raw_body(request)
        matched = False
        for path in path_candidates(request):
            canonical = signing.canonical_request(
                method=request.method,
                path=path,
                query=request.META.get("QUERY_STRING", ""),
                timestamp=timestamp,
                nonce=nonce,
                body=body,
            )
            matched |= hmac.compare_digest(signing.sign(secret, canonical), given)
        return matched

    def authenticate_header(self, request):
        return HMAC_CHALLENGE
