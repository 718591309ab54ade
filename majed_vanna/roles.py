"""Roles and the permissions they grant (contract §4): the one map used by every app (users' roles, DRF
permission classes, the agent's tool access and integration clients). The core holds no models: ``Role`` is
a choices enum that ``accounts.models.User`` stores."""

from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    SUPERUSER = "superuser", "Superuser"
    NORMAL = "normal", "Normal"


INTEGRATION_ROLE = "integration"

ALL_PERMISSIONS = frozenset(
    {
        "create_user",
        "read_user",
        "update_user",
        "delete_user",
        "read_config",
        "update_config",
        "system_admin",
        "backup_restore",
        "view_logs",
        "manage_integrations",
        "use_chat",
        "use_tools",
        "admin_tools",
    }
)

# Permissions an integration client may be created with.
INTEGRATION_PERMISSIONS = frozenset({"use_chat", "use_tools", "read_config"})

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ADMIN: ALL_PERMISSIONS,
    # create/read/update_user apply to normal users only; services enforce that object-level rule.
    Role.SUPERUSER: frozenset(
        {"create_user", "read_user", "update_user", "read_config", "use_chat", "use_tools", "admin_tools"}
    ),
    Role.NORMAL: frozenset({"read_config", "use_chat", "use_tools"}),
}


def permissions_for_role(role: str) -> frozenset[str]:
    return ROLE_PERMISSIONS.get(role, frozenset())


def role_can_manage(*, actor_role: str, target_role: str) -> bool:
    """Admins manage everyone; superusers manage normal users only; normal users manage nobody."""
    if actor_role == Role.ADMIN:
        return True
    return actor_role == Role.SUPERUSER and target_role == Role.NORMAL
