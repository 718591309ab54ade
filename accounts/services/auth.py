"""Authentication services (contract §3, §5 "Authentication"): login with lockout and rate limits,
refresh with rotation, logout, password change. Every attempt is audited; no secret is ever logged.

Audit rows of refused attempts must survive the refusal, so checks run outside any transaction and
only the writes of a successful operation are atomic.
"""

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from majed_vanna.api.throttles import RateState, hit, parse_rate
from majed_vanna.audit import audit_record
from majed_vanna.cache_client import CACHE_ERRORS
from majed_vanna.exceptions import (
    AccountLockedError,
    AuthenticationFailedError,
    RateLimitExceededError,
    ServiceUnavailableError,
    ValidationFailedError,
)

from .. import lockout, tokens
from ..models import User

INVALID_CREDENTIALS = "Invalid username or password"
INVALID_REFRESH = "Invalid, expired or revoked refresh token"
LOGIN_UNAVAILABLE = "Login is temporarily unavailable; retry later"

logger = logging.getLogger(__name__)


@dataclass
class LoginResult:
    user: User
    tokens: tokens.TokenPair
    rate_headers: dict = field(default_factory=dict)


def login_rate(*, ip: str | None, username: str) -> tuple[bool, RateState]:
    """5/minute per client IP and per attempted username (contract §3); the tighter state is reported.
    Counted by the API login and the admin site's login alike."""
    ip_ok, ip_state = hit(scope="auth.login.ip", identity=ip or "unknown", rate=settings.LOGIN_RATE)
    name_ok, name_state = hit(
        scope="auth.login.username", identity=lockout.username_key(username), rate=settings.LOGIN_RATE
    )
    state = ip_state if ip_state.remaining <= name_state.remaining else name_state
    if not ip_ok:
        state = ip_state
    elif not name_ok:
        state = name_state
    return ip_ok and name_ok, state


def locked_rate_headers(seconds: int) -> dict[str, str]:
    """``X-RateLimit-*`` for a locked username: nothing remains until the lock ends (contract §3)."""
    limit, _ = parse_rate(settings.LOGIN_RATE)
    reset = int(timezone.now().timestamp()) + max(1, int(seconds))
    return RateState(limit=limit, remaining=0, reset=reset).headers()


def _login_failed(*, username: str, user: User | None, reason: str, message: str, details: dict | None = None):
    audit_record(
        action="auth.login_failed",
        actor_id=str(user.pk) if user else "",
        actor_name=username,
        resource="user",
        resource_id=user.pk if user else "",
        details={"reason": reason, **(details or {})},
        success=False,
        error_message=message,
    )


def _login_unavailable(*, username: str, user: User | None, step: str):
    """The shared cache (lockout, rate limits) cannot be reached: the attempt is audited, then refused with 503.
    Nothing else was done: no token issued, no failure counted, ``last_login`` untouched."""
    logger.warning("Login refused: the cache is unavailable (%s)", step)
    _login_failed(
        username=username, user=user, reason="service_unavailable", message=LOGIN_UNAVAILABLE, details={"step": step}
    )
    raise ServiceUnavailableError(LOGIN_UNAVAILABLE)


def auth_login(*, username: str, password: str, remember_me: bool = False, ip: str | None = None) -> LoginResult:
    """Check the credentials and issue a token pair.

    Order: lockout (429 ACCOUNT_LOCKED, the password is not even checked), rate limits (429
    RATE_LIMIT_EXCEEDED), credentials (401 with one message for unknown user, wrong password and
    inactive user; an unknown user still costs one password hash so timing does not tell them apart).

    Lockout and rate limits live in the shared cache; they fail closed: while the cache cannot be reached a
    login is refused with 503 SERVICE_UNAVAILABLE, and the attempt is still audited (``auth.login_failed``,
    reason ``service_unavailable``) before the refusal.
    """
    name = lockout.normalize_username(username)
    try:
        remaining = lockout.locked_for(name)
        if not remaining:
            allowed, state = login_rate(ip=ip, username=name)
    except CACHE_ERRORS:
        _login_unavailable(username=name, user=None, step="lockout_check")
    if remaining:
        _login_failed(username=name, user=None, reason="account_locked", message="Account locked")
        raise AccountLockedError(retry_after=remaining, headers=locked_rate_headers(remaining))

    headers = state.headers()
    if not allowed:
        _login_failed(username=name, user=None, reason="rate_limited", message="Too many login attempts")
        retry_after = max(1, state.reset - int(timezone.now().timestamp()))
        raise RateLimitExceededError(
            "Too many login attempts; try again later", retry_after=retry_after, headers=headers
        )

    user = User.objects.filter(username=name).first()
    if user is None:
        make_password(password)  # same cost as checking a real password
        valid = False
    else:
        valid = user.check_password(password) and user.is_active
    if not valid:
        try:
            locked_seconds = lockout.register_failure(name)
        except CACHE_ERRORS:
            _login_unavailable(username=name, user=user, step="failure_count")
        reason = "inactive" if user is not None and not user.is_active else "invalid_credentials"
        _login_failed(
            username=name,
            user=user,
            reason=reason,
            message=INVALID_CREDENTIALS,
            details={"locked": bool(locked_seconds)},
        )
        if locked_seconds:
            raise AccountLockedError(retry_after=locked_seconds, headers=locked_rate_headers(locked_seconds))
        raise AuthenticationFailedError(INVALID_CREDENTIALS, headers=headers)

    try:
        lockout.register_success(name)  # before the commit: a 503 here leaves nothing done
    except CACHE_ERRORS:
        _login_unavailable(username=name, user=user, step="failure_reset")
    with transaction.atomic():
        user.last_login = timezone.now()
        user.save(update_fields=["last_login"])
        pair = tokens.issue_token_pair(user=user, remember_me=remember_me)
        audit_record(
            action="auth.login", actor=user, resource="user", resource_id=user.pk, details={"remember_me": remember_me}
        )
    return LoginResult(user=user, tokens=pair, rate_headers=headers)


def _refresh_failed(refused: tokens.TokenRefused) -> None:
    audit_record(
        action="auth.refresh_failed",
        actor_id=refused.user_id,
        resource="token",
        details={"reason": refused.reason},
        success=False,
        error_message=INVALID_REFRESH,
    )


@transaction.atomic
def _rotate(raw: str) -> tuple[User, tokens.TokenPair]:
    payload = tokens.decode_refresh(raw)
    user_id = str(payload["user_id"])
    try:
        user = User.objects.filter(pk=user_id).first()
    except (ValueError, DjangoValidationError):
        user = None
    if user is None or not user.is_active:
        raise tokens.TokenRefused("user_inactive", user_id)
    if tokens.issued_before_cutoff(payload, user):
        raise tokens.TokenRefused("revoked", user_id)
    if not tokens.blacklist_jti(payload["jti"]):
        raise tokens.TokenRefused("reused_or_unknown", user_id)
    return user, tokens.issue_token_pair(user=user, remember_me=bool(payload.get(tokens.REMEMBER_ME_CLAIM)))


def auth_refresh(*, refresh_token: str) -> tuple[User, tokens.TokenPair]:
    """Rotate a refresh token: the presented one is blacklisted, a new pair is issued (same lifetime)."""
    try:
        return _rotate(refresh_token)
    except tokens.TokenRefused as refused:
        _refresh_failed(refused)
        raise AuthenticationFailedError(INVALID_REFRESH)


def _deny_after_commit(access_payload) -> None:
    """Put the presented access token on the deny-list once the change is committed. The change stands if the
    cache fails now (logged): the refresh tokens are revoked in the database, and while the cache is down every
    bearer token is refused with 503 anyway; the access token is only usable again if Redis comes back without
    its data, until it expires (``JWT_ACCESS_MINUTES``)."""
    try:
        tokens.deny_access_token(access_payload)
    except CACHE_ERRORS:
        logger.warning("Access token not added to the deny-list (the cache is unavailable)")


def auth_logout(*, user: User, access_payload, refresh_token: str | None = None) -> bool:
    """Revoke the presented access token and blacklist the given refresh token.

    A refresh token that is not genuine or belongs to someone else is refused (422, nothing revoked);
    one that has already expired or been revoked is accepted, since it is unusable already.
    Returns whether a refresh token was blacklisted by this call.
    """
    payload = None
    if refresh_token:
        try:
            payload = tokens.decode_refresh(refresh_token, allow_expired=True)
        except tokens.TokenRefused:
            payload = {"user_id": None}
        if payload is not None and str(payload["user_id"]) != str(user.pk):
            raise ValidationFailedError(details={"refresh_token": ["Not a valid refresh token for this user."]})
    with transaction.atomic():
        revoked = bool(payload) and tokens.blacklist_jti(payload["jti"])
        audit_record(
            action="auth.logout", actor=user, resource="user", resource_id=user.pk, details={"refresh_revoked": revoked}
        )
    _deny_after_commit(access_payload)
    return revoked


def auth_password_change(
    *, user: User, current_password: str, new_password: str, access_payload=None
) -> tokens.TokenPair:
    """Change one's own password: checks the current one and the policy (>= 12 characters and Django's
    validators), clears ``must_change_password`` and revokes every token issued before now. Returns a
    fresh token pair so the caller's session continues."""
    if not user.check_password(current_password):
        audit_record(
            action="auth.password_change_failed",
            actor=user,
            resource="user",
            resource_id=user.pk,
            details={"reason": "wrong_current_password"},
            success=False,
            error_message="Current password is incorrect",
        )
        raise ValidationFailedError(details={"current_password": ["Current password is incorrect."]})
    if new_password == current_password:
        raise ValidationFailedError(details={"new_password": ["The new password must differ from the current one."]})
    try:
        validate_password(new_password, user=user)
    except DjangoValidationError as exc:
        raise ValidationFailedError(details={"new_password": exc.messages})
    with transaction.atomic():
        user.set_password(new_password)
        user.must_change_password = False
        tokens.revoke_all_for_user(user, changed_fields=["password", "must_change_password"])
        pair = tokens.issue_token_pair(user=user)
        audit_record(action="auth.password_changed", actor=user, resource="user", resource_id=user.pk)
    if access_payload is not None:
        _deny_after_commit(access_payload)
    return pair
