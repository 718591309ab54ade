"""Feedback on an answer and its review queue (contract §5 "Knowledge" → feedback).

A user (or integration client) rates one of their own answers (``up``/``down``), optionally with a corrected
SQL. The question→SQL pair it implies becomes a ``draft`` memory private to its author (so it helps the author
at once) and a ``pending`` feedback row in the review queue. Only an ``admin_tools`` reviewer turns it into
shared knowledge (``approve``: the memory becomes global and approved) or turns it down (``reject``: the draft
is retired). Nothing a normal user sends is used for anyone else's answers without that review
(``agent.services.feedback``).

The question, the answer's SQL and the SQL the memory holds are copied here when the feedback is given: the
reviewer sees what was asked and answered even if the conversation is later deleted (``message`` then
becomes empty).
"""

import uuid

from django.conf import settings
from django.db import models

COMMENT_MAX = 2_000


class Rating(models.TextChoices):
    UP = "up", "Thumbs up"
    DOWN = "down", "Thumbs down"


class FeedbackStatus(models.TextChoices):
    PENDING = "pending", "Pending review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class Feedback(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    message = models.ForeignKey(
        "agent.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback"
    )
    conversation_id = models.UUIDField(null=True, blank=True, help_text="The answer's conversation (a copy)")
    data_source = models.ForeignKey(
        "agent.DataSource", null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback"
    )
    rating = models.CharField(max_length=8, choices=Rating.choices)
    comment = models.TextField(blank=True, default="", max_length=COMMENT_MAX)
    question = models.TextField(blank=True, default="", help_text="The user's question the answer answered")
    answer_sql = models.TextField(blank=True, default="", help_text="The SQL the answer ran (its lineage)")
    corrected_sql = models.TextField(blank=True, default="", help_text="The SQL the author says is right")
    sql = models.TextField(blank=True, default="", help_text="The SQL the memory holds (corrected, else answer's)")
    memory = models.ForeignKey(
        "agent.Memory", null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback"
    )
    status = models.CharField(max_length=16, choices=FeedbackStatus.choices, default=FeedbackStatus.PENDING)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="agent_feedback"
    )
    author_client_id = models.CharField(max_length=40, blank=True, default="")
    author_name = models.CharField(max_length=254, blank=True, default="")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agent_feedback_reviewed",
    )
    reviewed_by_name = models.CharField(max_length=254, blank=True, default="")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True, default="", max_length=COMMENT_MAX)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "feedback"
        indexes = [models.Index(fields=["status", "-created_at", "-id"], name="agent_feedback_queue")]
        constraints = [models.UniqueConstraint(fields=["message"], name="agent_feedback_one_per_message")]

    def __str__(self) -> str:
        return f"{self.rating}: {(self.question or str(self.id))[:70]}"
