"""Reads of the agent's data sources, for its views, the SQL runners and other apps (contract §5 "Agent")."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet

from agent.sql.types import DataSourceSpec
from config_api.validation import mask_url
from majed_vanna import crypto
from majed_vanna.api.filtering import filter_queryset
from majed_vanna.api.permissions import principal_permissions
from majed_vanna.exceptions import NotFoundError, ServiceUnavailableError

from .filters import ConversationFilter, DataSourceFilter
from .models import Conversation, DataSource, Message

SECRET_PURPOSE = "data_source"  # key derivation purpose of data-source URLs (majed_vanna.crypto)
CONVERSATION_NOT_FOUND = "Conversation not found"
UNREADABLE_URL = "[unreadable: SECRET_KEY changed? set the URL again]"


def data_source_url(source: DataSource) -> str:
    """The decrypted URL (for runners and probes only; never for a response, a log or an audit row).
    ``SecretUnreadableError`` when no configured key decrypts it."""
    return crypto.decrypt(source.url_encrypted, purpose=SECRET_PURPOSE)


def data_source_masked_url(source: DataSource) -> str:
    """The URL as responses, the admin and audit rows show it: any password replaced by ``********``."""
    try:
        return mask_url(data_source_url(source))
    except crypto.SecretUnreadableError:
        return UNREADABLE_URL


def data_source_spec(source: DataSource) -> DataSourceSpec:
    """What a runner needs to reach ``source``, with the URL decrypted; 503 when the URL cannot be decrypted."""
    try:
        url = data_source_url(source)
    except crypto.SecretUnreadableError:
        raise ServiceUnavailableError(
            f"The URL of data source {source.name!r} cannot be decrypted (SECRET_KEY changed?): put the previous key "
            "in SECRET_KEY_FALLBACKS and run manage.py reencrypt_secrets, or set the URL again."
        ) from None
    return DataSourceSpec(
        id=str(source.pk),
        name=source.name,
        engine=source.engine,
        url=url,
        statement_timeout_ms=source.statement_timeout_ms,
        row_cap=source.row_cap,
        max_result_bytes=source.max_result_bytes,
        allow_system_catalogs=source.allow_system_catalogs,
    )


def may_manage_data_sources(principal) -> bool:
    return "system_admin" in principal_permissions(principal)


def data_sources_visible(principal) -> QuerySet[DataSource]:
    """What ``principal`` may see: ``system_admin``: every source; callers with ``use_chat``: the enabled
    sources whose ``roles`` hold their role (integration clients: ``integration``); others: none."""
    sources = DataSource.objects.all()
    if may_manage_data_sources(principal):
        return sources
    if "use_chat" not in principal_permissions(principal):
        return sources.none()
    role = getattr(principal, "role", None)
    # ``roles`` is a JSON list: ``__contains`` on JSON is not portable (SQLite), and sources are few.
    allowed = [pk for pk, roles in sources.filter(enabled=True).values_list("pk", "roles") if role in (roles or [])]
    return sources.filter(pk__in=allowed)


def data_source_list(*, principal, params) -> QuerySet[DataSource]:
    """Visible sources, by name, filtered and ordered by ``DataSourceFilter`` (a bad value is 422)."""
    return filter_queryset(DataSourceFilter, params, data_sources_visible(principal).order_by("name", "id"))


def data_source_default() -> DataSource | None:
    return DataSource.objects.filter(is_default=True).first()


def data_source_by_url(url: str) -> DataSource | None:
    """The source whose (decrypted) URL is ``url``, if any (sources are few)."""
    for source in DataSource.objects.order_by("created_at", "id"):
        try:
            if data_source_url(source) == url:
                return source
        except crypto.SecretUnreadableError:
            continue
    return None


# --- conversations (contract §5 "Agent": own conversations; system_admin sees all; others' are 404)


def may_see_all_conversations(principal) -> bool:
    return "system_admin" in principal_permissions(principal)


def _owner_filter(principal) -> dict:
    """The lookup naming ``principal``'s own conversations: a user's, or an integration client's."""
    client_id = getattr(principal, "integration_client_id", None)
    if client_id:
        return {"client_id": client_id}
    if getattr(principal, "pk", None) is None or not getattr(principal, "is_authenticated", False):
        return {"pk__in": []}
    return {"user_id": principal.pk}


def conversations_owned(principal) -> QuerySet[Conversation]:
    """``principal``'s own conversations (the ones it may continue)."""
    return Conversation.objects.filter(**_owner_filter(principal))


def conversations_visible(principal) -> QuerySet[Conversation]:
    """What ``principal`` may read and delete: ``system_admin`` every conversation, anyone else their own."""
    conversations = (
        Conversation.objects.all() if may_see_all_conversations(principal) else conversations_owned(principal)
    )
    return conversations.select_related("user", "data_source")


def conversation_list(*, principal, params) -> QuerySet[Conversation]:
    """Visible conversations, newest activity first, filtered and ordered by ``ConversationFilter`` (422 on a
    bad value)."""
    return filter_queryset(ConversationFilter, params, conversations_visible(principal).order_by("-updated_at", "-id"))


def conversation_owned(principal, conversation_id) -> Conversation:
    """``principal``'s own conversation ``conversation_id`` (to continue it); 404 for anyone else's, an admin's
    included, and for a malformed id."""
    try:
        conversation = conversations_owned(principal).filter(pk=conversation_id).first()
    except (ValueError, TypeError, DjangoValidationError):
        conversation = None
    if conversation is None:
        raise NotFoundError(CONVERSATION_NOT_FOUND)
    return conversation


def conversation_messages(conversation: Conversation) -> QuerySet[Message]:
    """The conversation's messages, oldest first."""
    return Message.objects.filter(conversation=conversation).order_by("created_at", "id")


def conversation_owner(conversation: Conversation) -> dict:
    """Who owns it, as responses and audit rows describe it."""
    if conversation.user_id is not None:
        return {"type": "user", "id": str(conversation.user_id), "name": conversation.user.username}
    return {"type": "integration", "id": conversation.client_id, "name": conversation.client_name}


def conversations_for_user(*, user) -> QuerySet:
    """``user``'s conversations for ``GET users/{id}/conversations`` (``accounts.selectors``), newest first, as
    plain dicts with the keys of ``agent/conversations`` list items (``owner`` aside: it is the user)."""
    return (
        Conversation.objects.filter(user_id=user.pk)
        .order_by("-updated_at", "-id")
        .values("id", "title", "data_source_id", "message_count", "created_at", "updated_at")
    )


# --- memory (contract §5 "Knowledge")


def memories_usable(principal, source: DataSource | None):
    """Memories that may answer ``principal``'s questions on ``source``: approved global ones of that source (or
    of every source), approved private ones of ``principal``, and ``principal``'s own private drafts."""
    from django.db.models import Q

    from .models import Memory, MemoryScope, MemoryStatus

    client_id = getattr(principal, "integration_client_id", None)
    mine = Q(owner_client_id=client_id) if client_id else Q(owner_id=getattr(principal, "pk", None), owner_client_id="")
    usable = Q(scope=MemoryScope.GLOBAL, status=MemoryStatus.APPROVED) | (
        Q(scope=MemoryScope.PRIVATE) & mine & Q(status__in=[MemoryStatus.APPROVED, MemoryStatus.DRAFT])
    )
    where = Q(data_source__isnull=True) | Q(data_source=source) if source is not None else Q(data_source__isnull=True)
    return Memory.objects.filter(usable & where)


def saved_questions(principal, source: DataSource | None) -> list[dict]:
    """The usable question→SQL memories as ``{"id", "question", "sql"}`` (for retrieval)."""
    from .models import MemoryKind

    rows = memories_usable(principal, source).filter(kind=MemoryKind.QUESTION_SQL).exclude(sql="")
    return [{"id": str(pk), "question": q, "sql": s} for pk, q, s in rows.values_list("id", "question", "sql")]


# --- semantic layer (contract §5 "Knowledge"): the reads live in agent.knowledge.semantic; re-exported here are
# the agent's seams (the prompt's semantic context, the tables a role may query) and the API's reads.
from .knowledge.semantic import (  # noqa: E402, F401 - re-exported
    SemanticContext,
    semantic_context,
    semantic_hidden_tables,
    semantic_list,
    semantic_search,
    semantic_synonyms,
    semantic_visible_tables,
)
