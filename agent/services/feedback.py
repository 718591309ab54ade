"""Feedback on answers and its review queue (contract §5 "Knowledge" → ``agent/feedback``).

* ``feedback_create``: the owner of an answer rates it (``up``/``down``), optionally with a corrected SQL, which
  must pass the read-only gate on the answer's data source (refused: 422 naming the rule). The question→SQL pair
  (the corrected SQL, else for a thumbs up the answer's own SQL) becomes a ``draft`` memory private to the
  author: it helps the author's next answers at once, nobody else's. Giving feedback again on the same answer
  while it is pending replaces it; after review it is 409. Audited ``feedback.create``.
* ``feedback_approve`` (``admin_tools``): optionally with an edited question and SQL, gate-checked again; the
  memory becomes ``global`` and ``approved`` (it answers the next similar question for everyone), with no owner
  left who could change it as its own. Audited ``feedback.approve``.
* ``feedback_reject`` (``admin_tools``): the draft is retired (no longer used, even for its author). Audited
  ``feedback.reject``.

Nothing a caller sends becomes shared knowledge without an approval.
"""

import uuid

from asgiref.sync import async_to_sync
from django.db import IntegrityError, transaction
from django.utils import timezone

from agent.sql.types import SqlRefused
from majed_vanna.api.callers import principal_identity
from majed_vanna.audit import audit_record
from majed_vanna.exceptions import ConflictError, NotFoundError, ValidationFailedError

from .. import selectors
from ..models import DataSource, Feedback, FeedbackStatus, Memory, MemoryKind, MemoryScope, MemoryStatus, Message
from ..models.conversations import MessageRole
from ..models.feedback import Rating

MESSAGE_NOT_FOUND = "Message not found"
FEEDBACK_NOT_FOUND = "Feedback not found"
RESOURCE = "feedback"


def _gate(*, source: DataSource | None, sql: str, principal, field: str) -> None:
    """422 unless the read-only gate accepts ``sql`` on ``source`` (a refusal is also audited there)."""
    from .queries import data_source_check

    if source is None:
        raise ValidationFailedError(details={field: ["The answer's data source no longer exists."]})
    try:
        async_to_sync(data_source_check)(source=source, sql=sql, principal=principal)
    except SqlRefused as refused:
        raise ValidationFailedError(
            "The SQL was refused by the read-only gate",
            details={field: [f"{refused.message} (rule: {refused.rule})"], "rule": refused.rule},
        ) from None


def _answer_of(principal, message_id) -> Message:
    """``principal``'s own assistant message ``message_id``; 404 for anyone else's (an admin's included)."""
    message = (
        Message.objects.select_related("conversation__data_source")
        .filter(pk=message_id, conversation__in=selectors.conversations_owned(principal))
        .first()
    )
    if message is None:
        raise NotFoundError(MESSAGE_NOT_FOUND)
    if message.role != MessageRole.ASSISTANT:
        raise ValidationFailedError(details={"message_id": ["Feedback is given on an answer (an assistant message)."]})
    return message


def _question_of(message: Message) -> str:
    """The user's message just before ``message`` in its conversation."""
    asked = (
        Message.objects.filter(
            conversation_id=message.conversation_id, role=MessageRole.USER, created_at__lte=message.created_at
        )
        .order_by("-created_at", "-id")
        .values_list("content", flat=True)
        .first()
    )
    return (asked or "").strip()


def _source_of(principal, message: Message) -> DataSource | None:
    """The data source the answer ran on (its lineage), else the conversation's; only one the author may use."""
    lineage_source = ((message.lineage or {}).get("data_source") or {}).get("id")
    visible = selectors.data_sources_visible(principal)
    for source_id in (lineage_source, message.conversation.data_source_id):
        try:
            source = visible.filter(pk=uuid.UUID(str(source_id))).first() if source_id else None
        except ValueError:
            source = None
        if source is not None:
            return source
    return None


def _owner_fields(principal) -> dict:
    client_id = getattr(principal, "integration_client_id", None)
    return (
        {"owner": None, "owner_client_id": str(client_id)} if client_id else {"owner": principal, "owner_client_id": ""}
    )


def _draft(*, feedback: Feedback, principal, source: DataSource | None) -> Memory | None:
    """Create, update or drop the author's private draft memory to match the feedback's question and SQL."""
    memory = feedback.memory
    if not (feedback.sql and feedback.question):
        if memory is not None and memory.status == MemoryStatus.DRAFT:
            memory.delete()
        return None
    fields = {
        "kind": MemoryKind.QUESTION_SQL,
        "question": feedback.question,
        "sql": feedback.sql,
        "data_source": source,
        "scope": MemoryScope.PRIVATE,
        "status": MemoryStatus.DRAFT,
        "created_by": feedback.author_name,
        **_owner_fields(principal),
    }
    if memory is None or memory.status != MemoryStatus.DRAFT:
        return Memory.objects.create(**fields)
    for name, value in fields.items():
        setattr(memory, name, value)
    memory.save()
    return memory


def _author_fields(principal) -> dict:
    client_id = getattr(principal, "integration_client_id", None)
    return {
        "author": None if client_id else principal,
        "author_client_id": str(client_id) if client_id else "",
        "author_name": principal_identity(principal)[1][:254],
    }


def _record(*, principal, message: Message, source: DataSource | None, fields: dict) -> tuple[Feedback, bool]:
    """Store the feedback on ``message`` (new, or replacing a pending one) with its draft, audited."""
    feedback = Feedback.objects.select_for_update().filter(message=message).first()
    created = feedback is None
    if not created and feedback.status != FeedbackStatus.PENDING:
        raise ConflictError(f"Feedback on this answer was already {feedback.status}.")
    feedback = feedback or Feedback(message=message)
    for name, value in {**fields, **_author_fields(principal)}.items():
        setattr(feedback, name, value)
    feedback.conversation_id, feedback.data_source = message.conversation_id, source
    feedback.memory = _draft(feedback=feedback, principal=principal, source=source)
    feedback.save()
    audit_record(
        action="feedback.create",
        actor=principal,
        resource=RESOURCE,
        resource_id=feedback.pk,
        details={
            "message_id": str(message.pk),
            "rating": feedback.rating,
            "corrected": bool(feedback.corrected_sql),
            "memory_id": str(feedback.memory_id) if feedback.memory_id else None,
            "replaced": not created,
        },
    )
    return feedback, created


def feedback_create(
    *, principal, message_id, rating: str, comment: str = "", corrected_sql: str = ""
) -> tuple[Feedback, bool]:
    """Rate ``principal``'s own answer ``message_id``; returns the feedback and whether it is new (else it
    replaced the pending feedback on the same answer). 404: not the caller's answer; 409: already reviewed;
    422: not an answer, or a corrected SQL the gate refuses."""
    if rating not in Rating.values:
        raise ValidationFailedError(details={"rating": [f"Allowed: {', '.join(Rating.values)}."]})
    message = _answer_of(principal, message_id)
    source = _source_of(principal, message)
    corrected_sql = (corrected_sql or "").strip()
    if corrected_sql:
        _gate(source=source, sql=corrected_sql, principal=principal, field="corrected_sql")
    lineage = message.lineage or {}
    answer_sql = (lineage.get("sql") or "").strip()
    # A thumbs up on an answer that a saved question already gave teaches nothing new: no draft (no duplicate).
    learned = corrected_sql or (answer_sql if rating == Rating.UP and not lineage.get("matched_question") else "")
    fields = {
        "rating": rating,
        "comment": (comment or "").strip(),
        "question": _question_of(message),
        "answer_sql": answer_sql,
        "corrected_sql": corrected_sql,
        "sql": learned,
    }
    try:
        with transaction.atomic():
            return _record(principal=principal, message=message, source=source, fields=fields)
    except IntegrityError:  # the same answer rated twice at the same moment: the other request won
        raise ConflictError("Feedback on this answer is being recorded; try again.") from None


def _pending(feedback: Feedback) -> Feedback:
    """``feedback`` locked for review; 409 when it was reviewed already."""
    locked = (
        Feedback.objects.select_for_update(of=("self",)).select_related("memory", "data_source").get(pk=feedback.pk)
    )
    if locked.status != FeedbackStatus.PENDING:
        raise ConflictError(f"This feedback was already {locked.status}.")
    return locked


def _reviewed(feedback: Feedback, actor, note: str, status: str) -> None:
    feedback.status = status
    feedback.reviewed_by = None if getattr(actor, "integration_client_id", None) else actor
    feedback.reviewed_by_name = principal_identity(actor)[1][:254]
    feedback.reviewed_at = timezone.now()
    feedback.review_note = (note or "").strip()
    feedback.save()


def feedback_approve(
    *, feedback: Feedback, actor, question: str | None = None, sql: str | None = None, note: str = ""
) -> Feedback:
    """Make the feedback's question→SQL a global, approved memory (optionally edited; always gate-checked on the
    answer's data source). 409 when already reviewed; 422 without a question and SQL, or when the gate refuses."""
    question = (question if question is not None else feedback.question).strip()
    sql = (sql if sql is not None else feedback.sql).strip()
    missing = {}
    if not question:
        missing["question"] = ["A question is needed to approve this feedback."]
    if not sql:
        missing["sql"] = ["This feedback carries no SQL (a thumbs down without a correction): give the right SQL."]
    if missing:
        raise ValidationFailedError(details=missing)
    _gate(source=feedback.data_source, sql=sql, principal=actor, field="sql")
    stored = {"question": feedback.question.strip(), "sql": feedback.sql.strip()}
    edited = sorted(name for name, value in (("question", question), ("sql", sql)) if value != stored[name])
    with transaction.atomic():
        feedback = _pending(feedback)
        memory = feedback.memory or Memory(kind=MemoryKind.QUESTION_SQL, created_by=feedback.author_name)
        memory.kind, memory.question, memory.sql = MemoryKind.QUESTION_SQL, question, sql
        memory.data_source = feedback.data_source
        memory.scope, memory.status = MemoryScope.GLOBAL, MemoryStatus.APPROVED
        memory.owner, memory.owner_client_id = None, ""  # shared knowledge: no author may change it as their own
        memory.flagged = ""
        memory.save()
        feedback.memory = memory
        _reviewed(feedback, actor, note, FeedbackStatus.APPROVED)
        audit_record(
            action="feedback.approve",
            actor=actor,
            resource=RESOURCE,
            resource_id=feedback.pk,
            details={"memory_id": str(memory.pk), "edited": edited, "rating": feedback.rating},
        )
    return feedback


def feedback_reject(*, feedback: Feedback, actor, note: str = "") -> Feedback:
    """Turn the feedback down: its draft memory is retired (used by nobody). 409 when already reviewed."""
    with transaction.atomic():
        feedback = _pending(feedback)
        if feedback.memory is not None and feedback.memory.status == MemoryStatus.DRAFT:
            feedback.memory.status = MemoryStatus.RETIRED
            feedback.memory.save(update_fields=["status", "updated_at"])
        _reviewed(feedback, actor, note, FeedbackStatus.REJECTED)
        audit_record(
            action="feedback.reject",
            actor=actor,
            resource=RESOURCE,
            resource_id=feedback.pk,
            details={"memory_id": str(feedback.memory_id) if feedback.memory_id else None, "rating": feedback.rating},
        )
    return feedback
