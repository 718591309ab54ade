"""Writes of the tools registry (contract §5 "Knowledge" → tools registry: ``PATCH agent/tools/registry/{id}``).

An administrator enables or disables a tool and chooses the roles allowed to use it. The change is audited
(``tool.update``, old and new values) and takes effect at once in this process and within a second or two in
every other one (``agent.tool_settings.publish`` after the commit).
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from majed_vanna.api.callers import principal_identity
from majed_vanna.audit import audit_record
from majed_vanna.exceptions import NotFoundError

from .. import tool_settings
from ..models import ToolSetting

TOOL_NOT_FOUND = "Tool not found"


def tool_by_id(tool_id: str):
    """The tool ``tool_id`` of ``agent.engine.tools.TOOLS``; 404 for any other name."""
    from ..engine.tools import TOOLS

    tool = next((t for t in TOOLS if t.name == tool_id), None)
    if tool is None:
        raise NotFoundError(TOOL_NOT_FOUND)
    return tool


def _roles(roles) -> list[str]:
    unknown = [role for role in roles if role not in tool_settings.TOOL_ROLES]
    if unknown:
        allowed = ", ".join(tool_settings.TOOL_ROLES)
        raise ValidationError({"roles": [f"Unknown role(s): {', '.join(map(str, unknown))}. Allowed: {allowed}."]})
    return [role for role in tool_settings.TOOL_ROLES if role in set(roles)]  # canonical order, no duplicates


@transaction.atomic
def tool_setting_update(*, tool_id: str, actor, enabled: bool | None = None, roles: list[str] | None = None) -> dict:
    """Change a tool's ``enabled`` flag and/or ``roles``; returns its effective settings. 404 for an unknown tool,
    422 for an unknown role. Audited ``tool.update`` (also when nothing changed: the administrator acted)."""
    tool = tool_by_id(tool_id)
    before = tool_settings.tool_settings()[tool.name]
    after = {
        "enabled": before["enabled"] if enabled is None else bool(enabled),
        "roles": before["roles"] if roles is None else _roles(roles),
    }
    ToolSetting.objects.update_or_create(
        tool_id=tool.name,
        defaults={**after, "updated_by_name": principal_identity(actor)[1][:254]},
    )
    tool_settings.forget()  # this process, this transaction: at once
    transaction.on_commit(tool_settings.publish, robust=True)  # every process: through the (shared) cache
    changed = sorted(key for key in after if after[key] != before[key])
    audit_record(
        action="tool.update",
        actor=actor,
        resource="tool",
        resource_id=tool.name,
        details={
            "tool": tool.name,
            "old": {key: before[key] for key in changed},
            "new": {key: after[key] for key in changed},
        },
    )
    return after
