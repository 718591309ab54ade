"""The events of a chat run (contract §5 "Agent" → Chat): plain JSON-safe dicts, each with a ``type``.

Every transport (SSE, poll, WebSocket, ``manage.py ask``, the eval runner) formats the same dicts; nothing
here knows about HTTP. ``error`` carries the contract's codes; ``done`` is always the last event.
"""

from typing import Any

from majed_vanna.exceptions import ApplicationError

TEXT, SQL, TABLE, CHART, TOOL_START, TOOL_END, ERROR, DONE = (
    "text",
    "sql",
    "table",
    "chart",
    "tool_start",
    "tool_end",
    "error",
    "done",
)
TYPES = (TEXT, SQL, TABLE, CHART, TOOL_START, TOOL_END, ERROR, DONE)

# Error codes inside a stream or a poll answer (contract §5), beside the platform's own (LLM_UNAVAILABLE ...).
SQL_REFUSED, SQL_TIMEOUT, SQL_ERROR = "SQL_REFUSED", "SQL_TIMEOUT", "SQL_ERROR"
LLM_UNAVAILABLE, LLM_NOT_CONFIGURED = "LLM_UNAVAILABLE", "LLM_NOT_CONFIGURED"
AGENT_GAVE_UP, CANCELLED, INTERNAL_ERROR = "AGENT_GAVE_UP", "CANCELLED", "INTERNAL_ERROR"
TOKEN_BUDGET_EXCEEDED, SERVICE_UNAVAILABLE = "TOKEN_BUDGET_EXCEEDED", "SERVICE_UNAVAILABLE"


def text(content: str) -> dict[str, Any]:
    return {"type": TEXT, "content": content}


def sql(statement: str) -> dict[str, Any]:
    return {"type": SQL, "sql": statement}


def table(columns: list[str], rows: list[list[Any]], row_count: int, truncated: bool) -> dict[str, Any]:
    return {"type": TABLE, "columns": columns, "rows": rows, "row_count": row_count, "truncated": truncated}


def chart(spec: dict[str, Any]) -> dict[str, Any]:
    return {"type": CHART, "spec": spec}


def tool_start(tool: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"type": TOOL_START, "tool": tool, "args": args}


def tool_end(tool: str, ok: bool, duration_ms: float, error: dict | None = None) -> dict[str, Any]:
    event = {"type": TOOL_END, "tool": tool, "ok": ok, "duration_ms": round(duration_ms, 1)}
    if error is not None:
        event["error"] = error
    return event


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return body


def error(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"type": ERROR, "error": error_body(code, message, details)}


def error_from(exc: ApplicationError) -> dict[str, Any]:
    return error(exc.code, exc.message, exc.details)


def done(
    *,
    conversation_id: str,
    message_id: str,
    tools_used: list[str],
    execution_time_ms: float,
    lineage: dict,
    metadata: dict | None = None,
) -> dict[str, Any]:
    """The last event. ``metadata`` (beside the contract's fields): this answer's token ``usage`` and the
    caller's ``usage_today`` (tokens in, out, total, and the daily ``budget``, 0 = unlimited)."""
    return {
        "type": DONE,
        "done": True,
        "conversation_id": conversation_id,
        "message_id": message_id,
        "tools_used": tools_used,
        "execution_time_ms": round(execution_time_ms, 1),
        "lineage": lineage,
        "metadata": metadata or {},
    }
