"""Authentication backend for the Django admin login: the same lockout, rate limits and audit as the API login."""

import logging

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from majed_vanna.audit import audit_record
from majed_vanna.cache_client import CACHE_ERRORS

from . import lockout
from .services.auth import login_rate

logger = logging.getLogger(__name__)


class LockoutModelBackend(ModelBackend):
    """``ModelBackend`` that refuses locked-out usernames and attempts over the login rate (5/minute per client
    IP and per username, contract §3), counts failures and audits every attempt. Calls without a request
    (``authenticate()`` from code, the test client's ``login()``) are not rate limited: there is no caller.

    While the shared cache cannot be reached the login fails closed, as the API login does: the attempt is
    audited (reason ``service_unavailable``) and refused, never a 500."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        name = lockout.normalize_username(username)
        try:
            return self._authenticate(request, name, password, **kwargs)
        except CACHE_ERRORS:
            logger.warning("Admin login refused: the cache is unavailable")
            self._audit_failure(name, "service_unavailable")
            raise PermissionDenied from None  # Django: stop here, the login fails

    def _authenticate(self, request, name: str, password: str, **kwargs):
        if lockout.locked_for(name):
            self._audit_failure(name, "account_locked")
            return None
        if request is not None and not login_rate(ip=getattr(request, "client_ip", None), username=name)[0]:
            self._audit_failure(name, "rate_limited")
            return None
        user = super().authenticate(request, username=name, password=password, **kwargs)
        if user is None:
            locked = bool(lockout.register_failure(name))
            self._audit_failure(name, "invalid_credentials", locked=locked)
            return None
        lockout.register_success(name)
        audit_record(action="auth.login", actor=user, resource="user", resource_id=user.pk, details={"via": "admin"})
        return user

    @staticmethod
    def _audit_failure(name: str, reason: str, locked: bool = False) -> None:
        audit_record(
            action="auth.login_failed",
            actor_id="",
            actor_name=name,
            resource="user",
            details={"reason": reason, "via": "admin", "locked": locked},
            success=False,
            error_message="Invalid username or password",
        )
