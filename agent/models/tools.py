"""The tools registry's state (contract §5 "Knowledge" → tools registry).

``ToolSetting``: an administrator's choice for one tool (``agent.engine.tools.TOOLS``): enabled or not, and the
roles allowed to use it. No row means the tool's defaults (enabled, every role its permissions allow). Read
through ``agent.tool_settings`` (cached, and fresh in every process within a second or two of a change).

``ToolCall``: one call of a tool (who, when, which tool, the arguments with secrets redacted, how long, whether
it worked and the error code if not, in which conversation). Appended by ``agent.services.tool_calls``; the
registry's usage and error counts and mean duration, and ``agent/tools/history``, are read from it.
"""

from django.conf import settings
from django.db import models

TOOL_ID_MAX = 64


class ToolSetting(models.Model):
    tool_id = models.CharField(max_length=TOOL_ID_MAX, primary_key=True)
    enabled = models.BooleanField(default=True)
    roles = models.JSONField(default=list, blank=True, help_text="Roles allowed to use the tool")
    updated_by_name = models.CharField(max_length=254, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["tool_id"]

    def __str__(self) -> str:
        return f"{self.tool_id} ({'enabled' if self.enabled else 'disabled'})"


class ToolCall(models.Model):
    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(auto_now_add=True)
    tool = models.CharField(max_length=TOOL_ID_MAX)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agent_tool_calls",
        db_index=False,
    )
    client_id = models.CharField(max_length=40, blank=True, default="", help_text="Calling integration client")
    caller_name = models.CharField(max_length=254, blank=True, default="")
    arguments = models.JSONField(default=dict, blank=True, help_text="Secrets redacted")
    duration_ms = models.FloatField(default=0.0)
    success = models.BooleanField(default=True)
    error_code = models.CharField(max_length=64, blank=True, default="")
    # Not a foreign key: the log outlives a deleted conversation, and recording a call never waits on, or fails
    # over, a constraint check at commit.
    conversation_id = models.UUIDField(null=True, blank=True)
    # The data source the call read (not a foreign key, like conversation_id): the history shows a reader only the
    # calls on sources it may see; a call without one (no data source involved) only to ``system_admin``.
    data_source_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # The history's order (newest first), alone and per tool; the registry's counts group by tool.
        indexes = [
            models.Index(fields=["created_at", "id"], name="agent_toolcall_time"),
            models.Index(fields=["tool", "created_at", "id"], name="agent_toolcall_tool_time"),
            models.Index(fields=["conversation_id"], name="agent_toolcall_conv"),
        ]

    def __str__(self) -> str:
        return f"{self.tool} {'ok' if self.success else self.error_code or 'failed'}"
