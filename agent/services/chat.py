"""The one path every question takes (contract §5 "Agent" → Chat; ``../shared/AGENT_DESIGN.md``).

::

    prepared = await chat_prepare(principal=..., message=..., conversation_id=..., data_source=...)
    async for event in chat_stream(prepared):   # text, sql, table, chart, tool_start, tool_end, error, done
        ...

``chat_prepare`` does everything that can fail before a stream starts (so transports can answer it as an
ordinary JSON error): the data source the caller may use, the caller's own conversation (404 for anyone
else's), the daily token budget, and stores the question. ``chat_stream`` then runs the answer (the LLM agent,
or the offline answerer when no LLM is configured) and yields its events as they happen; ``done`` is always
last. Whatever happens (an error, a cancelled run, a client gone) the answer is stored with the events that
went out, its lineage and its token usage, and the run is audited (``agent.chat``).

Cancelling the consumer of ``chat_stream`` (client disconnect, WebSocket ``cancel``) cancels the run's task:
the LLM request is closed at the provider and a running query is abandoned.
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction

from agent import selectors
from agent.engine import events
from agent.engine.lineage import lineage as build_lineage
from agent.engine.run import Run, current_run
from agent.llm.errors import LLMNotConfiguredError, LLMUnavailableError
from agent.llm.registry import llm_service
from agent.models import Conversation, DataSource
from agent.models.conversations import MessageRole
from majed_vanna import request_context
from majed_vanna.api.callers import principal_identity
from majed_vanna.api.policy import release_connections
from majed_vanna.audit import audit_record
from majed_vanna.exceptions import ApplicationError, NotFoundError, RateLimitExceededError, ValidationFailedError
from majed_vanna.runtime import runtime_value

from .conversations import conversation_start, message_append

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 4_000
HISTORY_MESSAGES = 10
HISTORY_CHARS = 2_000  # of each earlier message given back to the model
DATA_SOURCE_NOT_FOUND = "Data source not found"


class TokenBudgetExceeded(RateLimitExceededError):
    code, default_message = "TOKEN_BUDGET_EXCEEDED", "Today's LLM token budget is spent"


@dataclass
class Prepared:
    """What ``chat_prepare`` resolved; everything ``chat_stream`` needs, loaded off the event loop."""

    principal: Any
    message: str
    conversation: Conversation
    source: DataSource
    history: list[dict]
    llm: Any = None  # an AsyncLlmService, or None: offline
    llm_error: ApplicationError | None = None
    sql_retries: int = 2
    max_tool_iterations: int = 5
    request: dict = field(default_factory=dict)  # request id, IP, user agent (for the audit row)
    message_id: uuid.UUID = field(default_factory=uuid.uuid4)  # the answer's id, known before it streams
    persist: bool = True  # False (evaluation runs): nothing stored, not audited per answer


async def orm(fn, *args, **kwargs):
    """Run ``fn`` (ORM work) off the event loop and give its connection back (a waiting chat holds none)."""

    def call():
        try:
            return fn(*args, **kwargs)
        finally:
            release_connections()

    return await sync_to_async(call)()


def _source_for(principal, source_ref: str | None, conversation: Conversation | None) -> DataSource:
    visible = selectors.data_sources_visible(principal).filter(enabled=True)
    if source_ref:
        try:
            source = visible.filter(pk=uuid.UUID(str(source_ref))).first()
        except ValueError:
            source = next((s for s in visible if s.name.lower() == str(source_ref).lower()), None)
        if source is None:
            raise NotFoundError(DATA_SOURCE_NOT_FOUND)
        return source
    if conversation is not None and conversation.data_source_id:
        source = visible.filter(pk=conversation.data_source_id).first()
        if source is not None:
            return source
    source = visible.filter(is_default=True).first() or visible.order_by("name").first()
    if source is None:
        raise ValidationFailedError(details={"data_source": ["No data source is available to you."]})
    return source


USAGE_KEYS = ("input_tokens", "output_tokens", "total_tokens")


def usage_today(principal) -> dict[str, int]:
    """Tokens in, out and in all that ``principal`` (a user, or an integration client: each its own) spent since
    00:00 UTC, summed from its ``agent.chat`` audit rows. Those are append-only: deleting conversations gives
    no tokens back, as summing the messages' own ``usage`` would."""
    from accounts.selectors import audit_log_list

    actor_id, _ = principal_identity(principal)
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = audit_log_list(params={"action": "agent.chat", "user_id": actor_id, "since": midnight.isoformat()})
    total = dict.fromkeys(USAGE_KEYS, 0)
    for details in rows.values_list("details", flat=True):
        usage = (details or {}).get("usage") or {}
        for key in USAGE_KEYS:
            total[key] += int(usage.get(key) or 0)
    return total


def tokens_used_today(principal) -> int:
    return usage_today(principal)["total_tokens"]


def _check_budget(principal) -> None:
    budget = int(runtime_value("agent_daily_token_budget", 0) or 0)
    if budget <= 0:
        return
    used = tokens_used_today(principal)
    if used >= budget:
        now = datetime.now(UTC)
        tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        raise TokenBudgetExceeded(
            f"Today's LLM token budget ({budget} tokens) is spent; it renews at 00:00 UTC.",
            retry_after=int((tomorrow - now).total_seconds()) + 1,
            details={"budget": budget, "used": used},
        )


def _history(conversation: Conversation) -> list[dict]:
    recent = list(selectors.conversation_messages(conversation).reverse()[:HISTORY_MESSAGES])
    return [
        {"role": m.role, "content": m.content[:HISTORY_CHARS], "sql": (m.lineage or {}).get("sql")}
        for m in reversed(recent)
        if m.content.strip()
    ]


def _prepare(principal, message: str, conversation_id, source_ref, persist: bool = True) -> Prepared:
    conversation = selectors.conversation_owned(principal, conversation_id) if conversation_id else None
    source = _source_for(principal, source_ref, conversation)
    llm, llm_error = None, None
    try:
        llm = llm_service()
    except (LLMNotConfiguredError, LLMUnavailableError) as exc:
        llm_error = exc
    if llm is not None:  # a token budget limits LLM answers: offline ones spend no tokens
        _check_budget(principal)
    if not persist:  # an evaluation case: asked like a chat, stored as an EvalResult instead
        conversation = conversation or Conversation(title=message[:200], data_source=source)
        history = []
    else:
        with transaction.atomic():
            if conversation is None:
                conversation = conversation_start(principal=principal, title=message, data_source=source)
                history = []
            else:
                history = _history(conversation)
            message_append(principal=principal, conversation=conversation, role=MessageRole.USER, content=message)
    return Prepared(
        principal=principal,
        message=message,
        conversation=conversation,
        source=source,
        history=history,
        llm=llm,
        llm_error=llm_error,
        sql_retries=int(runtime_value("agent_sql_retries", 2)),
        max_tool_iterations=int(runtime_value("agent_max_tool_iterations", 5)),
        persist=persist,
        request={
            "request_id": request_context.request_id_var.get(),
            "client_ip": request_context.client_ip_var.get(),
            "user_agent": request_context.user_agent_var.get(),
        },
    )


async def chat_prepare(
    *,
    principal,
    message: str,
    conversation_id: str | None = None,
    data_source: str | None = None,
    persist: bool = True,
) -> Prepared:
    """Validate and resolve a chat before its stream starts; raises ``ApplicationError`` (404, 422, 429)."""
    text = (message or "").strip()
    if not text:
        raise ValidationFailedError(details={"message": ["This field may not be blank."]})
    if len(message) > MAX_MESSAGE_CHARS:
        raise ValidationFailedError(
            details={"message": [f"Ensure this field has no more than {MAX_MESSAGE_CHARS} characters."]}
        )
    return await orm(_prepare, principal, text, conversation_id, data_source, persist)


def _finish(prepared: Prepared, run: Run, message_id: uuid.UUID, lineage: dict) -> dict:
    """Store the answer (events, lineage, usage) and audit the run, in one transaction; the caller's usage
    today, this answer's included (``usage_today``), with the daily budget (0: unlimited). An evaluation case
    (``persist`` off) stores nothing and reports no usage of the day."""
    if not prepared.persist:
        return {}
    with transaction.atomic():
        stored = message_append(
            principal=prepared.principal,
            conversation=prepared.conversation,
            role=MessageRole.ASSISTANT,
            content=run.answer_text,
            events=run.events,
            lineage=lineage,
            usage=dict(run.usage) or None,
            message_id=message_id,
        )
        audit_record(
            action="agent.chat",
            actor=prepared.principal,
            resource="conversation",
            resource_id=prepared.conversation.pk,
            details={
                "message_id": str(stored.pk),
                "data_source": prepared.source.name,
                "mode": "llm" if prepared.llm is not None else "offline",
                "sql": (run.sql or "")[:500],
                "row_count": run.row_count,
                "retries": run.failures,
                "usage": dict(run.usage),
                "error": (run.failure or {}).get("code"),
            },
            success=run.failure is None,
            error_message=(run.failure or {}).get("message", ""),
        )
    return {**usage_today(prepared.principal), "budget": int(runtime_value("agent_daily_token_budget", 0) or 0)}


async def _answer(prepared: Prepared, run: Run) -> None:
    """Produce the run's events: the LLM agent, or the offline answerer."""
    from agent.engine import offline
    from agent.engine.loop import run_with_llm
    from agent.engine.tools import source_ready

    token = current_run.set(run)
    try:
        if prepared.llm_error is not None:
            raise prepared.llm_error
        if prepared.llm is None:
            await offline.answer(run)
            return
        await source_ready(run)  # the schema; a source down is the error at once, before any model call
        run.examples = await offline.examples_for(run)
        await run_with_llm(prepared.llm, run)
    finally:
        current_run.reset(token)


def _fail(run: Run, body: dict) -> None:
    run.failure = body
    run.emit({"type": events.ERROR, "error": body})


HEARTBEAT = {"type": "heartbeat"}  # not an event: "nothing new for a while" (SSE turns it into a comment)


async def chat_stream(prepared: Prepared, *, heartbeat: float | None = None) -> AsyncIterator[dict]:
    """The run's events as they happen; ``done`` last. The answer is stored whatever happens. With
    ``heartbeat`` (seconds), ``HEARTBEAT`` is yielded whenever that long passes without an event."""
    run = Run(
        principal=prepared.principal,
        question=prepared.message,
        conversation_id=str(prepared.conversation.pk),
        data_source=prepared.source,
        sql_retries=prepared.sql_retries,
        max_tool_iterations=prepared.max_tool_iterations,
        history=prepared.history,
        schema=prepared.source.schema_snapshot,
    )
    for var, name in (
        (request_context.request_id_var, "request_id"),
        (request_context.client_ip_var, "client_ip"),
        (request_context.user_agent_var, "user_agent"),
    ):
        var.set(prepared.request.get(name))
    end = object()

    async def produce():
        try:
            await _answer(prepared, run)
        except ApplicationError as exc:
            _fail(run, events.error_body(exc.code, exc.message, exc.details))
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("Chat run failed (conversation %s)", run.conversation_id)
            _fail(run, events.error_body(events.INTERNAL_ERROR, "The answer failed unexpectedly; it was logged."))
        finally:
            run.queue.put_nowait(end)

    task = asyncio.create_task(produce())
    message_id = prepared.message_id
    finished = False
    try:
        while True:
            try:
                event = await asyncio.wait_for(run.queue.get(), heartbeat)
            except TimeoutError:
                yield HEARTBEAT
                continue
            if event is end:
                break
            yield event
        await task
        lineage = build_lineage(run)
        today = await orm(_finish, prepared, run, message_id, lineage)
        finished = True
        yield events.done(
            conversation_id=run.conversation_id,
            message_id=str(message_id),
            tools_used=sorted(set(run.tools_used)),
            execution_time_ms=run.elapsed_ms(),
            lineage=lineage,
            metadata={"usage": dict(run.usage), "usage_today": today},
        )
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if not finished:  # cancelled or the consumer went away: keep what was said, marked cancelled
            run.failure = run.failure or events.error_body(events.CANCELLED, "The answer was cancelled.")
            run.events.append({"type": events.ERROR, "error": run.failure})
            with contextlib.suppress(Exception):
                await asyncio.shield(orm(_finish, prepared, run, message_id, build_lineage(run)))


async def chat_collect(prepared: Prepared) -> dict:
    """``chat_poll``: the whole run collected into one answer (contract shape)."""
    collected: list[dict] = []
    async for event in chat_stream(prepared):
        collected.append(event)
    done = collected[-1]
    text = "".join(e["content"] for e in collected if e["type"] == events.TEXT)
    return {
        "response": text,
        "conversation_id": done["conversation_id"],
        "message_id": done["message_id"],
        "tools_used": done["tools_used"],
        "execution_time_ms": done["execution_time_ms"],
        "events": collected[:-1],
        "lineage": done["lineage"],
        "metadata": {
            "usage": done["lineage"].get("usage", {}),
            "usage_today": done["metadata"]["usage_today"],
            "error": next((e["error"] for e in collected if e["type"] == events.ERROR), None),
            "mode": "llm" if prepared.llm is not None else "offline",
        },
    }
