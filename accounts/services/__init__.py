"""Account services (writes). Re-exported here so other apps import ``accounts.services.<name>``.

Audit recording moved to the core (``majed_vanna.audit``); ``audit_record`` and its helpers are re-exported
here only for a transition (``health.services`` and ``seed_demo`` still import them from here).
"""

from majed_vanna.audit import audit_denied_and_raise, audit_permission_denied, audit_record, scrub

from .audit import audit_prune
from .auth import LoginResult, auth_login, auth_logout, auth_password_change, auth_refresh
from .users import (
    generate_temporary_password,
    user_create,
    user_create_by_operator,
    user_delete,
    user_reset_password,
    user_set_password_by_operator,
    user_unlock,
    user_update,
)

__all__ = [
    "LoginResult",
    "audit_denied_and_raise",
    "audit_permission_denied",
    "audit_prune",
    "audit_record",
    "auth_login",
    "auth_logout",
    "auth_password_change",
    "auth_refresh",
    "generate_temporary_password",
    "scrub",
    "user_create",
    "user_create_by_operator",
    "user_delete",
    "user_reset_password",
    "user_set_password_by_operator",
    "user_unlock",
    "user_update",
]
