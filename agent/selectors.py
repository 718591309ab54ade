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
    # a memory flagged by schema drift is never silently used: it waits for a fix (or a re-approval)
    return Memory.objects.filter(usable & where, flagged="")


def _memories_mine(principal):
    from django.db.models import Q

    client_id = getattr(principal, "integration_client_id", None)
    if client_id:
        return Q(owner_client_id=client_id)
    if getattr(principal, "pk", None) is None:
        return Q(pk__in=[])
    return Q(owner_id=principal.pk, owner_client_id="")


def memories_visible(principal):
    """What ``principal`` may read in ``agent/memory``: its own private memories, and global ones: every global
    one for ``admin_tools`` holders, the approved ones for other ``use_chat`` callers. Nobody sees another's
    private memory."""
    from django.db.models import Q

    from .models import Memory, MemoryScope, MemoryStatus

    permissions = principal_permissions(principal)
    if "use_chat" not in permissions and "admin_tools" not in permissions:
        return Memory.objects.none()
    shared = Q(scope=MemoryScope.GLOBAL)
    if "admin_tools" not in permissions:
        shared &= Q(status=MemoryStatus.APPROVED)
    mine = Q(scope=MemoryScope.PRIVATE) & _memories_mine(principal)
    return Memory.objects.filter(shared | mine).select_related("data_source")


def memory_list(*, principal, params) -> QuerySet:
    """Visible memories, last changed first, filtered by ``MemoryFilter`` (422 on a bad value)."""
    from .filters import MemoryFilter

    return filter_queryset(MemoryFilter, params, memories_visible(principal).order_by("-updated_at", "-id"))


def memory_stats(principal) -> dict:
    """Counts of the visible memories per kind, status and scope, and how many drift flagged."""
    from django.db.models import Count

    from .models import MemoryKind, MemoryScope, MemoryStatus

    visible = memories_visible(principal).order_by()
    stats = {"total": visible.count(), "flagged": visible.exclude(flagged="").count()}
    for field, choices in (("kind", MemoryKind), ("status", MemoryStatus), ("scope", MemoryScope)):
        counted = dict(visible.values_list(field).annotate(n=Count("id")).values_list(field, "n"))
        stats[f"by_{field}"] = {value: counted.get(value, 0) for value in choices.values}
    return stats


def saved_questions(principal, source: DataSource | None) -> list[dict]:
    """The usable question→SQL memories as ``{"id", "question", "sql"}`` (for retrieval)."""
    from .models import MemoryKind

    rows = memories_usable(principal, source).filter(kind=MemoryKind.QUESTION_SQL).exclude(sql="")
    return [{"id": str(pk), "question": q, "sql": s} for pk, q, s in rows.values_list("id", "question", "sql")]


# --- evaluation (issue 17; admin_tools)


def eval_sets_visible(principal):
    """Evaluation sets for ``admin_tools`` holders, on the data sources they may see, with their case counts;
    nothing for others (a set's cases, SQL and results are its source's: hidden with it)."""
    from django.db.models import Count

    from .models import EvalSet

    if "admin_tools" not in principal_permissions(principal):
        return EvalSet.objects.none()
    return (
        EvalSet.objects.filter(data_source__in=data_sources_visible(principal))
        .select_related("data_source")
        .annotate(case_count=Count("cases"))
    )


def eval_runs_visible(principal):
    from .models import EvalRun

    if "admin_tools" not in principal_permissions(principal):
        return EvalRun.objects.none()
    return EvalRun.objects.filter(eval_set__data_source__in=data_sources_visible(principal)).select_related("eval_set")


def eval_source(principal, ref: str) -> DataSource:
    """The data source ``ref`` (id or name) among those ``principal`` may see; 404 otherwise."""
    import uuid

    visible = data_sources_visible(principal)
    try:
        source = visible.filter(pk=uuid.UUID(str(ref))).first()
    except ValueError:
        source = next((s for s in visible if s.name.lower() == str(ref).lower()), None)
    if source is None:
        raise NotFoundError("Data source not found")
    return source


def eval_run_history(eval_set) -> list:
    """The set's finished runs, oldest first (the report's chart)."""
    from .models import EvalRun, EvalRunStatus

    return list(EvalRun.objects.filter(eval_set=eval_set, status=EvalRunStatus.SUCCEEDED).order_by("created_at"))


# --- feedback and the tools registry (contract §5 "Knowledge")


def feedback_list(*, principal, params) -> QuerySet:
    """The review queue (``admin_tools``), newest first, filtered by ``FeedbackFilter`` (422 on a bad value)."""
    from .filters import FeedbackFilter

    queryset = feedback_reviewable(principal).order_by("-created_at", "-id")
    return filter_queryset(FeedbackFilter, params, queryset)


def feedback_reviewable(principal) -> QuerySet:
    """What an ``admin_tools`` reviewer may list and act on: feedback on the data sources ``principal`` may see
    (its question, SQL and comment are that source's), and feedback whose source is gone."""
    from django.db.models import Q

    from .models import Feedback

    visible = Q(data_source__isnull=True) | Q(data_source__in=data_sources_visible(principal))
    return Feedback.objects.filter(visible).select_related("memory", "data_source")


def tool_settings() -> dict[str, dict]:
    """``{tool_id: {"enabled", "roles"}}`` for every tool, defaults where no administrator chose; cached, and
    fresh in every process within a second or two of a change (``agent.tool_settings``). Synchronous code only;
    a coroutine awaits ``atool_settings()``."""
    from .tool_settings import tool_settings as current

    return current()


async def atool_settings() -> dict[str, dict]:
    """``tool_settings()`` for coroutines (the engine's tool list): reloads off the event loop when stale."""
    from .tool_settings import atool_settings as current

    return await current()


def tool_allowed(principal, tool_id: str, settings: dict[str, dict] | None = None) -> bool:
    """Whether the registry offers ``tool_id`` to ``principal``: enabled, and its role (integration clients:
    ``integration``) among the tool's roles. The tool's own permissions (``access_groups``) apply on top."""
    setting = (settings if settings is not None else tool_settings()).get(tool_id)
    return bool(setting and setting["enabled"] and getattr(principal, "role", None) in setting["roles"])


def tool_registry() -> list[dict]:
    """``GET agent/tools/registry``: every tool with its settings and its usage from the call log (two queries)."""
    from django.db.models import Avg, Count, Max, Q

    from .engine.tools import TOOLS
    from .models import ToolCall, ToolSetting
    from .tool_settings import default_roles

    rows = {row.tool_id: row for row in ToolSetting.objects.all()}
    usage = {
        row["tool"]: row
        for row in ToolCall.objects.order_by()
        .values("tool")
        .annotate(
            calls=Count("id"),
            errors=Count("id", filter=Q(success=False)),
            mean=Avg("duration_ms"),
            last=Max("created_at"),
        )
    }
    listed = []
    for tool in TOOLS:
        row, used, defaults = rows.get(tool.name), usage.get(tool.name) or {}, default_roles(tool)
        listed.append(
            {
                "tool_id": tool.name,
                "name": tool.name,
                "description": tool.description,
                "category": getattr(tool, "category", "data"),
                "permissions_required": list(tool.access_groups),
                "parameters": tool.get_schema().parameters,
                "enabled": row.enabled if row else True,
                "roles": list(row.roles) if row else defaults,
                "default_roles": defaults,
                "customised": row is not None,
                "usage_count": used.get("calls", 0),
                "error_count": used.get("errors", 0),
                "mean_duration_ms": round(used["mean"], 1) if used.get("mean") is not None else None,
                "last_used_at": used.get("last"),
                "updated_at": row.updated_at if row else None,
                "updated_by": row.updated_by_name if row else "",
            }
        )
    return listed


def tool_calls_visible(principal) -> QuerySet:
    """The logged calls ``principal`` may read: ``system_admin`` every one; other ``admin_tools`` holders the calls
    on data sources their role may use (a call's arguments hold the SQL it ran on that source)."""
    from .models import ToolCall

    calls = ToolCall.objects.all()
    if may_manage_data_sources(principal):
        return calls
    return calls.filter(data_source_id__in=list(data_sources_visible(principal).values_list("pk", flat=True)))


def tool_call_list(*, principal, params) -> QuerySet:
    """``GET agent/tools/history``: the calls ``principal`` may read, newest first, filtered by ``ToolCallFilter``."""
    from .filters import ToolCallFilter

    return filter_queryset(ToolCallFilter, params, tool_calls_visible(principal).order_by("-created_at", "-id"))


def tool_call_caller(call) -> dict:
    """Who made a logged call, as responses describe an owner."""
    if call.client_id:
        return {"type": "integration", "id": call.client_id, "name": call.caller_name}
    return {"type": "user", "id": str(call.user_id) if call.user_id else "", "name": call.caller_name}


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
