"""Writes of the conversation store (contract §5 "Agent"): start a conversation, append a message, delete one.

Ownership is checked here on every write, not by the caller: a message is appended only to a conversation of
the principal writing it (``system_admin`` reads and deletes others' but never continues them), anything else is
404 as if it did not exist. Starting and appending are part of a chat run, which the chat transport audits
(``agent.chat``); deleting is audited here (``conversation.delete``).
"""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from majed_vanna.audit import audit_record
from majed_vanna.exceptions import NotFoundError

from .. import selectors
from ..models import Conversation, DataSource, Message
from ..models.conversations import TITLE_MAX, MessageRole

RESOURCE = "conversation"


def conversation_title(text: str) -> str:
    """A title from the first question: one line, at most ``TITLE_MAX`` characters."""
    line = " ".join((text or "").split())
    return line if len(line) <= TITLE_MAX else line[: TITLE_MAX - 1].rstrip() + "…"


def conversation_start(*, principal, title: str = "", data_source: DataSource | None = None) -> Conversation:
    """A new, empty conversation owned by ``principal`` (a user or an integration client)."""
    client_id = getattr(principal, "integration_client_id", None)
    owner = (
        {"client_id": client_id, "client_name": (getattr(principal, "client_name", "") or "")[:100]}
        if client_id
        else {"user": principal}
    )
    return Conversation.objects.create(title=conversation_title(title), data_source=data_source, **owner)


def message_append(
    *,
    principal,
    conversation: Conversation,
    role: str,
    content: str,
    events: list | None = None,
    lineage: dict | None = None,
    usage: dict | None = None,
    message_id=None,
) -> Message:
    """Store one message of ``principal``'s own ``conversation`` and mark the conversation active now. 404 when
    the conversation is not ``principal``'s (or is gone)."""
    if role not in MessageRole.values:
        raise ValueError(f"role must be one of {MessageRole.values}")
    with transaction.atomic():
        updated = (
            selectors.conversations_owned(principal)
            .filter(pk=conversation.pk)
            .update(message_count=F("message_count") + 1, updated_at=timezone.now())
        )
        if not updated:
            raise NotFoundError(selectors.CONVERSATION_NOT_FOUND)
        message = Message.objects.create(
            **({"id": message_id} if message_id is not None else {}),
            conversation_id=conversation.pk,
            role=role,
            content=content,
            events=list(events or []),
            lineage=lineage,
            usage=usage,
        )
    if not conversation.title and role == MessageRole.USER:
        Conversation.objects.filter(pk=conversation.pk, title="").update(title=conversation_title(content))
    return message


def conversation_delete(*, conversation: Conversation, actor) -> None:
    """Delete ``conversation`` and its messages for good; audited ``conversation.delete`` (owner, title, count).
    The caller has found it among ``selectors.conversations_visible(actor)``."""
    details = {
        "owner": selectors.conversation_owner(conversation),
        "title": conversation.title,
        "message_count": conversation.message_count,
    }
    conversation_id = conversation.pk
    with transaction.atomic():
        conversation.delete()
        audit_record(
            action="conversation.delete", actor=actor, resource=RESOURCE, resource_id=conversation_id, details=details
        )
