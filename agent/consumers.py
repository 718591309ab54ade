"""The chat over WebSocket, ``ws/agent/chat/`` (contract §5 "Agent" → Chat; README "Chat over WebSocket").

``ChatConsumer`` is a ``majed_vanna.ws.PolicyConsumer``: the first message authenticates (``{"type": "auth",
"token": JWT}`` or ``{"type": "auth", "api_key": ...}``; 4401 bad credentials, 4403 without ``use_chat``) and
the credential is checked again on every later message. Then, any number of times on one socket:

* ``{"type": "chat", message, conversation_id?, data_source?}``: counted in the ``agent.chat`` scope (the
  counter ``chat_sse`` and ``chat_poll`` use, per client, else per user); validated like the HTTP body, then
  prepared by ``agent.services.chat.chat_prepare`` (404 conversation or data source, token budget). A refusal is
  an ``error`` event with the HTTP transports' code, marked ``"refused": true`` (no ``done`` follows it; errors
  inside an answer are unmarked and followed by ``done``), and the socket stays open. Otherwise every event of
  ``chat_stream`` is sent as one JSON message as it happens, ``done`` last. One answer at a time: a chat while
  one runs is an ``error`` event ``CONFLICT``.
* ``{"type": "cancel"}``: the running answer's task is cancelled (the core closes the LLM request and abandons
  the query; the answer so far is stored, marked ``CANCELLED``, and audited), then the client gets an ``error``
  event ``CANCELLED`` and a ``done`` for the stored answer, so every answer ends with ``done``. A cancel when
  nothing runs is ignored (the answer already ended with its ``done``); cancels are not rate-limited.

A disconnect, or the server closing the socket (a credential revoked meanwhile), cancels the running answer
the same way; it is stored before the consumer goes.
"""

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass

from channels.db import database_sync_to_async

from majed_vanna.api import policy
from majed_vanna.api.exception_handler import envelope_for_exception
from majed_vanna.exceptions import ConflictError, ValidationFailedError
from majed_vanna.ws import PolicyConsumer

from .api.chat_serializers import ChatInputSerializer
from .engine import events
from .models import Message
from .services import chat as chat_service

logger = logging.getLogger(__name__)

CHAT_THROTTLE = policy.Policy(scope="agent.chat")
ANSWER_RUNNING = "An answer is already running on this socket: wait for its done event, or send a cancel."
CANCELLED_MESSAGE = "The answer was cancelled."


@dataclass
class Answer:
    """The answer running on a socket: what was prepared, the task streaming it, and whether ``done`` went out."""

    prepared: chat_service.Prepared
    task: asyncio.Task | None = None
    ended: bool = False


def chat_fields(content: dict) -> dict:
    """The chat message's fields, validated as the HTTP body is (422 ``VALIDATION_ERROR`` with details)."""
    serializer = ChatInputSerializer(data=content)
    if not serializer.is_valid():
        raise ValidationFailedError(details={k: [str(m) for m in v] for k, v in serializer.errors.items()})
    return serializer.validated_data


def cancelled_done(prepared: chat_service.Prepared) -> dict:
    """The ``done`` of a cancelled answer, from the message the core stored for it."""
    stored = (
        Message.objects.filter(pk=prepared.message_id, conversation=prepared.conversation)
        .values("events", "lineage")
        .first()
    ) or {"events": [], "lineage": None}
    lineage = stored["lineage"] or {}
    return events.done(
        conversation_id=str(prepared.conversation.pk),
        message_id=str(prepared.message_id),
        tools_used=sorted({e.get("tool") for e in stored["events"] if e.get("type") == events.TOOL_START}),
        execution_time_ms=float((lineage.get("timings_ms") or {}).get("total") or 0),
        lineage=stored["lineage"],
    )


class ChatConsumer(PolicyConsumer):
    permission = "use_chat"
    # PolicyConsumer counts every message in ``throttle_scope``; here only chat messages count (CHAT_THROTTLE),
    # so a cancel never costs a question.
    throttle_scope = None

    @classmethod
    async def encode_json(cls, content) -> str:
        return json.dumps(content, default=str, separators=(",", ":"))  # as chat_sse does (dates, decimals)

    async def connect(self):
        self.answer: Answer | None = None
        await super().connect()

    async def disconnect(self, code):
        await super().disconnect(code)
        await self._stop()

    async def close(self, code=None, reason=None):
        await self._stop()
        await super().close(code=code, reason=reason)

    async def handle(self, content: dict) -> None:
        kind = content.get("type")
        if kind == "chat":
            await self._chat(content)
        elif kind == "cancel":
            await self._cancel()
        else:
            await super().handle(content)

    async def send_error(self, exc, code: str | None = None) -> None:
        """An ``error`` event refusing the message that caused it, marked ``"refused": true``: no ``done``
        follows. Errors inside an answer come from its stream, unmarked, and ``done`` follows them."""
        if code is not None:
            error = {"code": code, "message": str(getattr(exc, "message", "") or "Bad request")}
        else:
            _, body, headers = envelope_for_exception(exc)  # logs what is unexpected, never echoes it
            error = body["error"]
            if "Retry-After" in headers:
                error["retry_after"] = int(headers["Retry-After"])
        await self.send_json({"type": "error", "error": error, "refused": True})

    def _running(self) -> bool:
        return self.answer is not None and not self.answer.ended and not self.answer.task.done()

    async def _chat(self, content: dict) -> None:
        try:
            await database_sync_to_async(policy.throttle)(self.request, CHAT_THROTTLE)
            if self._running():
                raise ConflictError(ANSWER_RUNNING)
            data = chat_fields(content)
            prepared = await chat_service.chat_prepare(
                principal=self.principal,
                message=data["message"],
                conversation_id=data.get("conversation_id"),
                data_source=data.get("data_source") or None,
            )
        except Exception as exc:  # ApplicationErrors keep their codes; anything else is logged, INTERNAL_ERROR
            await self.send_error(exc)
            return
        self.answer = Answer(prepared)
        self.answer.task = asyncio.create_task(self._stream(self.answer))

    async def _stream(self, answer: Answer) -> None:
        try:
            async with contextlib.aclosing(chat_service.chat_stream(answer.prepared)) as stream:
                async for event in stream:
                    if event is chat_service.HEARTBEAT:
                        continue
                    if event["type"] == events.DONE:
                        answer.ended = True  # from here a cancel is too late: the answer is complete
                    await self.send_json(event)
        except Exception:  # the socket went away under us: the core has stored the answer already
            logger.warning("Chat answer not delivered over WebSocket", exc_info=True)

    async def _cancel(self) -> None:
        answer = self.answer
        if answer is None or not self._running():
            return
        await self._stop()
        await self.send_json(events.error(events.CANCELLED, CANCELLED_MESSAGE))
        await self.send_json(await chat_service.orm(cancelled_done, answer.prepared))

    async def _stop(self) -> None:
        """Cancel the running answer and wait until the core has stored it (never raises its outcome)."""
        answer = getattr(self, "answer", None)
        if answer is None or answer.task is None or answer.task.done():
            return
        answer.task.cancel()
        await asyncio.wait({answer.task})
