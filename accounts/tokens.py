"""JWT issuing, decoding and revocation (contract §5 "Authentication").

- Refresh tokens live in simplejwt's outstanding/blacklist tables (the token text itself is not stored:
  a jti is enough to blacklist it). ``remember_me`` gives a 30-day refresh token and survives rotation.
- Access tokens are revoked before they expire through a cache deny-list keyed by ``jti`` (TTL = the
  token's remaining lifetime), shared by every server process when the cache is Redis.
- Any token issued before ``User.tokens_valid_after`` (password change/reset, deactivation) is refused.
"""

import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenBackendExpiredToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

REMEMBER_ME_CLAIM = "rmb"
# Issue time in microseconds: ``iat`` has whole seconds, too coarse to tell a token issued just before a
# password reset from one issued just after it.
ISSUED_AT_US_CLAIM = "iat_us"
_DENY_PREFIX = "jwt:deny:"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int  # seconds until the access token expires
    refresh_expires_in: int


class TokenRefused(Exception):
    """A refresh token that cannot be used; ``reason`` is for the audit row, never for the client."""

    def __init__(self, reason: str, user_id: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.user_id = user_id


def issue_token_pair(*, user, remember_me: bool = False) -> TokenPair:
    """A new access + refresh token for ``user``; the refresh token is recorded as outstanding."""
    refresh = RefreshToken()
    refresh[api_settings.USER_ID_CLAIM] = str(user.pk)
    refresh[ISSUED_AT_US_CLAIM] = int(refresh.current_time.timestamp() * 1_000_000)
    lifetime = api_settings.REFRESH_TOKEN_LIFETIME
    if remember_me:
        lifetime = settings.JWT_REMEMBER_ME_REFRESH_LIFETIME
        refresh[REMEMBER_ME_CLAIM] = True
        refresh.set_exp(from_time=refresh.current_time, lifetime=lifetime)
    OutstandingToken.objects.create(
        user=user,
        jti=refresh[api_settings.JTI_CLAIM],
        token="",  # the jti identifies it; keeping the token text would be a credential at rest
        created_at=refresh.current_time,
        expires_at=datetime_from_epoch(refresh["exp"]),
    )
    access = refresh.access_token
    return TokenPair(
        access_token=str(access),
        refresh_token=str(refresh),
        expires_in=int(api_settings.ACCESS_TOKEN_LIFETIME.total_seconds()),
        refresh_expires_in=int(lifetime.total_seconds()),
    )


def decode_refresh(raw: str, *, allow_expired: bool = False) -> dict | None:
    """The verified payload of a refresh token (signature, algorithm, ``iss``, ``aud``, type).

    Raises ``TokenRefused``. With ``allow_expired``, an expired but genuine token returns ``None``.
    """
    from rest_framework_simplejwt.state import token_backend

    try:
        payload = token_backend.decode(raw, verify=True)
    except TokenBackendExpiredToken:
        if allow_expired:
            return None
        raise TokenRefused("expired")
    except TokenBackendError:
        raise TokenRefused("invalid")
    if (
        payload.get(api_settings.TOKEN_TYPE_CLAIM) != "refresh"
        or not payload.get(api_settings.JTI_CLAIM)
        or not payload.get(api_settings.USER_ID_CLAIM)
    ):
        raise TokenRefused("invalid")
    return payload


def issued_before_cutoff(payload, user) -> bool:
    """True when the token was issued before the user's ``tokens_valid_after``.

    Tokens from ``issue_token_pair`` carry their issue time in microseconds; any other token (e.g. built
    with simplejwt's ``for_user``) is compared in whole seconds.
    """
    cutoff = getattr(user, "tokens_valid_after", None)
    if cutoff is None:
        return False
    issued_at_us = payload.get(ISSUED_AT_US_CLAIM)
    if isinstance(issued_at_us, int):
        return issued_at_us < int(cutoff.timestamp() * 1_000_000)
    issued_at = payload.get("iat")
    if issued_at is None:
        return True
    return int(issued_at) < math.floor(cutoff.timestamp())


def blacklist_jti(jti: str) -> bool:
    """Blacklist one outstanding refresh token; False if it was already blacklisted or is unknown.

    Runs under ``select_for_update`` so that two concurrent refreshes of one token cannot both win.
    """
    # order_by: the model orders by user (an outer join), which FOR UPDATE refuses on PostgreSQL.
    outstanding = OutstandingToken.objects.select_for_update().filter(jti=jti).order_by("pk").first()
    if outstanding is None:
        return False
    _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
    return created


def blacklist_all_for_user(user) -> int:
    """Blacklist every outstanding, unexpired refresh token of ``user``; returns how many."""
    pending = OutstandingToken.objects.filter(
        user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    ).values_list("id", flat=True)
    rows = [BlacklistedToken(token_id=token_id) for token_id in pending]
    BlacklistedToken.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def revoke_all_for_user(user, *, changed_fields: list[str]) -> int:
    """End every session of ``user``: tokens issued before now stop working (``tokens_valid_after``) and the
    outstanding refresh tokens are blacklisted. Saves ``changed_fields`` (the caller's changes) with it;
    returns how many refresh tokens were blacklisted. Call inside the caller's transaction."""
    user.tokens_valid_after = timezone.now()
    user.save(update_fields=[*changed_fields, "tokens_valid_after", "updated_at"])
    return blacklist_all_for_user(user)


def deny_access_token(payload) -> None:
    """Refuse this access token until it expires (logout, password change)."""
    jti = payload.get(api_settings.JTI_CLAIM)
    if not jti:
        return
    remaining = int(payload.get("exp", 0)) - int(time.time())
    if remaining > 0:
        cache.set(_DENY_PREFIX + str(jti), 1, timeout=remaining + 1)


def access_token_denied(payload) -> bool:
    jti = payload.get(api_settings.JTI_CLAIM)
    return bool(jti) and cache.get(_DENY_PREFIX + str(jti)) is not None
