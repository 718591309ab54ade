"""Verifying an integration client's credentials from plain values (contract §5 "Integration clients").

The DRF classes in ``integrations.authentication`` adapt requests to these functions; views outside DRF
(async SSE views, the WebSocket consumer) can call ``authenticate_headers`` themselves, through
``sync_to_async`` since it reads the database.

Refusals raise ``IntegrationAuthenticationFailed``: 401 AUTHENTICATION_FAILED with ``details.reason``
``expired`` (timestamp outside ±300 s, or the client is past its ``expires_at`` -- told only to a caller
whose key or signature was right) or ``invalid`` (unknown client, wrong key or signature, revoked, replayed
nonce, an address outside the client's IP ranges). The precise cause is logged, never sent.
"""

import hmac
import ipaddress
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from rest_framework import exceptions as drf_exceptions

from majed_vanna.exceptions import AuthenticationFailedError

from . import crypto, selectors, services, signing
from .models import IntegrationClient
from .principal import IntegrationPrincipal, client_is_expired

logger = logging.getLogger(__name__)

NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{8,128}$")
TIMESTAMP_RE = re.compile(r"^[0-9]{1,12}$")
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_]{1,40}$")
SIGNATURE_RE = re.compile(r"^[0-9a-f]{64}$")
INVALID, EXPIRED = "invalid", "expired"
API_KEY_CHALLENGE = 'ApiKey realm="api"'
HMAC_CHALLENGE = 'HMAC-SHA256 realm="api"'
_MESSAGES = {
    INVALID: "Invalid integration credentials or signature",
    EXPIRED: "The request timestamp or the client's credentials have expired",
}
SIGNATURE_HEADERS = (signing.HEADER_CLIENT_ID, signing.HEADER_TIMESTAMP, signing.HEADER_NONCE, signing.HEADER_SIGNATURE)

Authenticated = tuple[IntegrationPrincipal, IntegrationClient]


class IntegrationAuthenticationFailed(AuthenticationFailedError, drf_exceptions.AuthenticationFailed):
    """401 AUTHENTICATION_FAILED with ``details = {"reason": "invalid"|"expired"}`` and a WWW-Authenticate
    challenge. Also a DRF ``AuthenticationFailed``, so DRF stops trying other classes and keeps the 401."""

    def __init__(self, reason: str, challenge: str):
        super().__init__(_MESSAGES[reason], details={"reason": reason}, headers={"WWW-Authenticate": challenge})


def refuse(reason: str, cause: str, client_id: str | None, challenge: str) -> IntegrationAuthenticationFailed:
    """The 401 to raise; the precise ``cause`` goes to the server log only."""
    logger.warning("Integration authentication refused: %s (client %s)", cause, client_id or "-")
    return IntegrationAuthenticationFailed(reason, challenge)


@dataclass(frozen=True)
class SignedParts:
    """What the signature covers, as received. ``paths``: the forms of the path the client may have signed."""

    method: str
    paths: Sequence[str]
    query: str
    body: bytes


def _ip_allowed(client: IntegrationClient, ip: str | None) -> bool:
    if not client.allowed_ip_ranges:
        return True
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(cidr, strict=False) for cidr in client.allowed_ip_ranges)


def _check_usable(client: IntegrationClient, client_ip: str | None, challenge: str) -> None:
    """Checks after the credential itself was verified: revoked, expired, IP ranges."""
    if client.is_revoked:
        raise refuse(INVALID, "revoked", client.client_id, challenge)
    if client_is_expired(client):
        raise refuse(EXPIRED, "client expired", client.client_id, challenge)
    if not _ip_allowed(client, client_ip):
        raise refuse(INVALID, f"address {client_ip} outside allowed ranges", client.client_id, challenge)


def _accepted(client: IntegrationClient) -> Authenticated:
    """Every check passed: record the use (``last_used_at``) and return the principal."""
    services.client_mark_used(client=client)
    return IntegrationPrincipal(client), client


def verify_api_key(api_key: str, *, client_ip: str | None) -> Authenticated:
    """Find the key's row by its public prefix, compare SHA-256 hashes in constant time."""
    api_key = api_key.strip()
    prefix = crypto.api_key_prefix_of(api_key)
    client = selectors.client_for_api_key_prefix(prefix=prefix) if prefix else None
    if client is None or not crypto.api_key_matches(api_key, client.api_key_hash):
        raise refuse(INVALID, "unknown or wrong API key", client.client_id if client else None, API_KEY_CHALLENGE)
    _check_usable(client, client_ip, API_KEY_CHALLENGE)
    return _accepted(client)


def verify_signature(
    *, client_id: str, timestamp: str, nonce: str, signature: str, parts: SignedParts, client_ip: str | None
) -> Authenticated:
    """±``INTEGRATIONS_SIGNATURE_MAX_AGE_SECONDS``; the nonce is consumed (atomic ``cache.add``, kept
    ``INTEGRATIONS_NONCE_TTL_SECONDS``) only once everything else passed, so a forger cannot burn nonces."""
    if not (CLIENT_ID_RE.match(client_id) and TIMESTAMP_RE.match(timestamp) and NONCE_RE.match(nonce)):
        raise refuse(INVALID, "missing or malformed signature headers", None, HMAC_CHALLENGE)
    if abs(time.time() - int(timestamp)) > settings.INTEGRATIONS_SIGNATURE_MAX_AGE_SECONDS:
        raise refuse(EXPIRED, "timestamp outside the window", client_id, HMAC_CHALLENGE)
    client = selectors.client_get(client_id=client_id)
    secret = crypto.decrypt_secret(client.secret_encrypted) if client is not None else None
    if secret is None or not SIGNATURE_RE.match(signature):
        raise refuse(INVALID, "unknown client, unreadable secret or malformed signature", client_id, HMAC_CHALLENGE)
    matched = False
    for path in parts.paths:
        canonical = signing.canonical_request(
            method=parts.method, path=path, query=parts.query, timestamp=timestamp, nonce=nonce, body=parts.body
        )
        matched |= hmac.compare_digest(signing.sign(secret, canonical), signature)
    if not matched:
        raise refuse(INVALID, "signature mismatch", client_id, HMAC_CHALLENGE)
    _check_usable(client, client_ip, HMAC_CHALLENGE)
    if not cache.add(f"nonce:{client_id}:{nonce}", 1, timeout=settings.INTEGRATIONS_NONCE_TTL_SECONDS):
        raise refuse(INVALID, "nonce replayed", client_id, HMAC_CHALLENGE)
    return _accepted(client)  # a replayed request is not a use


def authenticate_headers(
    headers: Mapping[str, str], *, parts: SignedParts, client_ip: str | None
) -> Authenticated | None:
    """``X-API-Key`` or the four signature headers (names case-insensitive) -> (principal, client).

    ``None`` when the request carries none of them; a refusal when it carries any and they fail.
    """
    found = {name.lower(): value for name, value in headers.items()}
    api_key = found.get(signing.HEADER_API_KEY.lower())
    if api_key is not None:
        return verify_api_key(api_key, client_ip=client_ip)
    values = {name: found.get(name.lower()) for name in SIGNATURE_HEADERS}
    if all(value is None for value in values.values()):
        return None
    return verify_signature_headers(values, parts=parts, client_ip=client_ip)


def verify_signature_headers(
    values: Mapping[str, str | None], *, parts: SignedParts, client_ip: str | None
) -> Authenticated:
    """``verify_signature`` from the four signature headers' values (by ``SIGNATURE_HEADERS`` name); a missing
    one counts as empty, so it fails like a wrong one."""
    return verify_signature(
        client_id=values[signing.HEADER_CLIENT_ID] or "",
        timestamp=values[signing.HEADER_TIMESTAMP] or "",
        nonce=values[signing.HEADER_NONCE] or "",
        signature=values[signing.HEADER_SIGNATURE] or "",
        parts=parts,
        client_ip=client_ip,
    )
