"""The chat transports over HTTP (contract §5 "Agent" → Chat): ``chat_sse`` streams the run's events,
``chat_poll`` answers them all at once. Both are async views under the core's request policy (scope
``agent.chat``, permission ``use_chat``); they only format ``agent.services.chat``'s events.

Errors before the stream starts (authentication, permission, validation, throttle, an unknown conversation or
data source, a spent token budget) are ordinary JSON error envelopes; errors during a run are ``error`` events
followed by ``done``.
"""

import json

from django.conf import settings
from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiResponse

from majed_vanna.api.async_views import ApiResult, async_api_view
from majed_vanna.api.parsers import loads_json
from majed_vanna.exceptions import BadRequestError, ValidationFailedError

from ..engine.tools import atools_for
from ..services import chat as chat_service
from .chat_serializers import ChatInputSerializer, ChatPollOutputSerializer, ToolListOutputSerializer

SSE_DESCRIPTION = (
    "A text/event-stream: one JSON event per `data:` line (text, sql, table, chart, tool_start, tool_end, error) "
    "and `done` last, with the lineage; a `: keep-alive` comment every 15 s. Closing the connection cancels the run."
)


# What a client reads from the stream, one event at a time (OpenAPI 3.0: an event stream's schema describes
# each event): its ``data`` line holds one JSON event; no ``event:`` field is sent, so readers see "message".
SSE_EVENT_SCHEMA = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "description": "Not sent: readers see the default, message"},
        "data": {"type": "string", "description": "One JSON event: its type, then that type's fields"},
    },
    "required": ["data"],
}


def chat_input(request) -> dict:
    """The validated body: JSON only; 400 for malformed JSON or another content type, 422 for bad fields."""
    content_type = (request.content_type or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise BadRequestError("Send the chat request as application/json")
    try:
        data = loads_json(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise BadRequestError("Malformed JSON") from None
    if not isinstance(data, dict):
        raise BadRequestError("The body must be a JSON object")
    serializer = ChatInputSerializer(data=data)
    if not serializer.is_valid():
        raise ValidationFailedError(details={k: [str(m) for m in v] for k, v in serializer.errors.items()})
    return serializer.validated_data


async def _prepared(request):
    data = chat_input(request)
    return await chat_service.chat_prepare(
        principal=request.user,
        message=data["message"],
        conversation_id=data.get("conversation_id"),
        data_source=data.get("data_source") or None,
    )


def sse_line(event: dict) -> bytes:
    if event is chat_service.HEARTBEAT:
        return b": keep-alive\n\n"
    return b"data: " + json.dumps(event, default=str, separators=(",", ":")).encode() + b"\n\n"


async def _sse(prepared, heartbeat: float):
    async for event in chat_service.chat_stream(prepared, heartbeat=heartbeat):
        yield sse_line(event)


@async_api_view(
    methods=["POST"],
    permission="use_chat",
    throttle_scope="agent.chat",
    streaming=True,
    schema={
        "POST": {
            "request": ChatInputSerializer,
            "responses": {
                (200, "text/event-stream"): OpenApiResponse(SSE_EVENT_SCHEMA, description=SSE_DESCRIPTION),
            },
            "summary": "Ask a question; the answer streams as server-sent events",
        }
    },
)
async def chat_sse(request):
    """Ask the agent a question and stream its answer as it happens (contract §5 "Agent" → Chat)."""
    prepared = await _prepared(request)
    response = StreamingHttpResponse(
        _sse(prepared, float(settings.AGENT_SSE_HEARTBEAT_SECONDS)),
        content_type="text/event-stream",
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


@async_api_view(
    methods=["POST"],
    permission="use_chat",
    throttle_scope="agent.chat",
    schema={
        "POST": {
            "request": ChatInputSerializer,
            "responses": ChatPollOutputSerializer,
            "summary": "Ask a question; the whole answer in one response",
        }
    },
)
async def chat_poll(request):
    """The same run as ``chat_sse``, collected into one response (events, lineage, usage)."""
    prepared = await _prepared(request)
    return ApiResult(await chat_service.chat_collect(prepared), message="Answer ready")


@async_api_view(
    methods=["GET"],
    permission="use_chat",
    throttle_scope="agent.tools",
    schema={"GET": {"responses": ToolListOutputSerializer, "summary": "The tools the caller may use"}},
)
async def tools_list(request):
    """The tools the model may call on the caller's behalf (``run_sql`` first), with their JSON Schema."""
    return ApiResult({"tools": await atools_for(request.user)}, message="Tools")
