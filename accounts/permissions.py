"""Roles and permissions live in the core (``majed_vanna.roles``); re-exported for this app's modules."""

from majed_vanna.roles import (
    ALL_PERMISSIONS,
    INTEGRATION_PERMISSIONS,
    INTEGRATION_ROLE,
    ROLE_PERMISSIONS,
    Role,
    permissions_for_role,
    role_can_manage,
)

__all__ = [
    "ALL_PERMISSIONS",
    "INTEGRATION_PERMISSIONS",
    "INTEGRATION_ROLE",
    "ROLE_PERMISSIONS",
    "Role",
    "permissions_for_role",
    "role_can_manage",
]
