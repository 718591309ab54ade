"""The agent's memory (contract §5 "Knowledge" → Memory): saved question→SQL pairs, text notes, DDL.

A memory belongs to one data source (or to all when ``data_source`` is empty), is ``global`` or ``private``
(a private one belongs to its owner: a user or an integration client, and nobody else ever sees it), and goes
``draft`` → ``approved`` → ``retired``. Only approved memories answer questions (and an owner's own private
drafts for that owner): ``agent.selectors.memories_usable``.

Issue 15 uses approved ``question_sql`` memories for the offline answerer and the prompt (the demo seeds
them); the memory API, the review queue and drift checks build on the same rows (issue 16).
"""

import uuid

from django.conf import settings
from django.db import models


class MemoryKind(models.TextChoices):
    QUESTION_SQL = "question_sql", "Question → SQL"
    TEXT = "text", "Text note"
    DDL = "ddl", "DDL / documentation"


class MemoryScope(models.TextChoices):
    GLOBAL = "global", "Global"
    PRIVATE = "private", "Private"


class MemoryStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"
    RETIRED = "retired", "Retired"


class Memory(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=MemoryKind.choices)
    question = models.TextField(blank=True, default="")
    sql = models.TextField(blank=True, default="")
    content = models.TextField(blank=True, default="")
    tags = models.JSONField(default=list, blank=True)
    data_source = models.ForeignKey(
        "agent.DataSource", null=True, blank=True, on_delete=models.CASCADE, related_name="memories"
    )
    scope = models.CharField(max_length=16, choices=MemoryScope.choices, default=MemoryScope.GLOBAL)
    status = models.CharField(max_length=16, choices=MemoryStatus.choices, default=MemoryStatus.DRAFT)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="memories"
    )
    owner_client_id = models.CharField(max_length=40, blank=True, default="")
    created_by = models.CharField(max_length=254, blank=True, default="", help_text="Who saved it (name)")
    use_count = models.PositiveIntegerField(default=0, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    flagged = models.CharField(
        max_length=200, blank=True, default="", help_text="Why it may no longer be right (schema drift)"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name_plural = "memories"
        indexes = [
            models.Index(fields=["status", "kind", "data_source"], name="agent_memory_usable"),
            models.Index(fields=["owner", "status"], name="agent_memory_owner"),
        ]

    def __str__(self) -> str:
        return (self.question or self.content or str(self.id))[:80]
