"""Conversations with the agent and their messages (contract §5 "Agent": conversations, lineage, usage).

A conversation belongs to exactly one principal: a user (``user``) or an integration client (``client_id``, its
public client id; the client may later be revoked or deleted, its conversations stay until deleted). Owners see
their own conversations; ``system_admin`` sees every one; anyone else gets 404 (``agent.selectors``).

Deleting is a real delete (messages go with it) and is audited ``conversation.delete``: a conversation may hold
what a user asked and the rows they saw, so "deleted" must mean gone, not hidden.

``message_count`` and ``updated_at`` are kept by ``agent.services.conversations.message_append`` so a list of
conversations is one query, newest activity first (indexes per owner kind).
"""

import uuid

from django.conf import settings
from django.db import models

TITLE_MAX = 200


class Conversation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="conversations",
        db_index=False,  # agent_conv_user_recent leads with user
    )
    client_id = models.CharField(max_length=40, blank=True, default="", help_text="Owning integration client")
    client_name = models.CharField(max_length=100, blank=True, default="", help_text="Its name when it started")
    title = models.CharField(max_length=TITLE_MAX, blank=True, default="")
    data_source = models.ForeignKey(
        "agent.DataSource", null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    message_count = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-updated_at", "-id"], name="agent_conv_user_recent"),
            models.Index(fields=["client_id", "-updated_at", "-id"], name="agent_conv_client_recent"),
            models.Index(fields=["-updated_at", "-id"], name="agent_conv_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(user__isnull=False) & models.Q(client_id=""))
                | (models.Q(user__isnull=True) & ~models.Q(client_id="")),
                name="agent_conversation_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.title or str(self.id)


class MessageRole(models.TextChoices):
    USER = "user", "User"
    ASSISTANT = "assistant", "Assistant"


class Message(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=16, choices=MessageRole.choices)
    content = models.TextField(blank=True, default="")
    events = models.JSONField(default=list, blank=True, help_text="The run's events as streamed")
    lineage = models.JSONField(null=True, blank=True, help_text="SQL, tables, timings, model, confidence")
    usage = models.JSONField(null=True, blank=True, help_text="Tokens in and out, as the provider reported them")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["conversation", "created_at", "id"], name="agent_msg_conv_order")]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:60]}"
