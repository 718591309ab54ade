"""Authentication backend for the Django admin login: the same lockout, rate limits and audit as the API login."""

from django.contrib.auth.backends import ModelBackend

from majed_vanna.audit import audit_record

from . import lockout
from .services.auth import login_rate


class LockoutModelBackend(ModelBackend):
    """``ModelBackend`` that refuses locked-out usernames and attempts over the login rate (5/minute per client
    IP and per username, contract §3), counts failures and audits every attempt. Calls without a request
    (``authenticate()`` from code, the test client's ``login()``) are not rate limited: there is no caller."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        name = lockout.normalize_username(username)
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
