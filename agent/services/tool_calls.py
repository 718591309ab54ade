"""The tool-call log (contract §5 "Knowledge" → tools registry: ``agent/tools/history``, usage and error counts).

``tool_call_record`` appends one ``ToolCall`` per call of a tool: who (a user or an integration client), which
tool, its arguments with every secret redacted (``redact``), how long it took, whether it worked and the error
code if not, and the conversation. It is cheap (one insert) and never fails the call it records: a log that
cannot be written is logged and dropped. ``atool_call_record`` is the same for coroutines (the ``run_sql`` tool).
"""

import logging
import re
from typing import Any

from asgiref.sync import sync_to_async
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, transaction

from config_api.validation import MASK
from majed_vanna.audit import REDACTED, is_secret_key

from ..models import ToolCall

logger = logging.getLogger(__name__)

ARGUMENT_CHARS = 4_000  # of each string argument kept in the log
ARGUMENT_DEPTH = 8

# ``scheme://user:password@`` anywhere in a string (a URL on its own, or inside a SQL literal).
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.\-]*://[^\s:/@'\"]*:)(?P<secret>[^\s@/'\"]+)(?=@)", re.I)
# ``password=...`` in a URL's query or a libpq keyword string (``host=db password=...``).
_PASSWORD_PARAMETER = re.compile(
    r"(?P<head>\b(?:password|sslpassword|pwd|passwd|api_key|apikey|token|secret)\s*=\s*)"
    r"(?P<secret>'[^']*'|\"[^\"]*\"|[^\s&;'\"]+)",
    re.I,
)


def redact_text(text: str) -> str:
    """``text`` with URL passwords (``user:password@``) and ``password=`` style parameters masked."""
    text = _URL_PASSWORD.sub(lambda m: m["head"] + MASK, text)
    return _PASSWORD_PARAMETER.sub(lambda m: m["head"] + MASK, text)


def redact(value: Any, *, depth: int = 0) -> Any:
    """A tool's arguments as the log keeps them: the value of every secret-named key (``password``, ``token``,
    ``api_key``, ``secret``, ``*_password``... as the audit trail names them) replaced by ``[redacted]``, URL
    passwords inside strings masked, long strings cut, nesting bounded. Never raises on any JSON-like input."""
    if depth >= ARGUMENT_DEPTH:
        return REDACTED
    if isinstance(value, dict):
        return {
            str(key): (_secret(item) if is_secret_key(key) else redact(item, depth=depth + 1))
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item, depth=depth + 1) for item in value]
    if isinstance(value, str):
        text = redact_text(value)
        return text if len(text) <= ARGUMENT_CHARS else text[: ARGUMENT_CHARS - 1] + "…"
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value), depth=depth + 1)


def _secret(value: Any) -> Any:
    """Under a secret-named key: a flag or an absent value says nothing secret; anything else is redacted."""
    return value if value is None or isinstance(value, bool) else REDACTED


def _caller(principal) -> dict:
    client_id = getattr(principal, "integration_client_id", None)
    if client_id:
        return {"client_id": str(client_id), "caller_name": (getattr(principal, "client_name", "") or "")[:254]}
    if principal is not None and getattr(principal, "is_authenticated", False) and getattr(principal, "pk", None):
        return {"user_id": principal.pk, "caller_name": (getattr(principal, "username", "") or "")[:254]}
    return {}


def tool_call_record(
    *,
    principal,
    tool: str,
    args: Any,
    duration_ms: float,
    success: bool,
    error_code: str = "",
    conversation_id=None,
    data_source_id=None,
) -> ToolCall | None:
    """Append one call to the log (secrets redacted). Returns the row, or ``None`` when it could not be
    written (logged; the call it describes is not failed for that)."""
    try:
        with transaction.atomic():  # a savepoint inside a caller's transaction: a failure here leaves it usable
            return ToolCall.objects.create(
                tool=str(tool)[:64],
                arguments=redact(args if args is not None else {}),
                duration_ms=max(0.0, float(duration_ms or 0.0)),
                success=bool(success),
                error_code=str(error_code or "")[:64],
                conversation_id=conversation_id or None,
                data_source_id=data_source_id or None,
                **_caller(principal),
            )
    except (DatabaseError, DjangoValidationError, ValueError, TypeError):
        logger.warning("Could not log a call of tool %s", tool, exc_info=True)
        return None


async def atool_call_record(**kwargs) -> ToolCall | None:
    """``tool_call_record`` from a coroutine: off the event loop, its connection given back afterwards."""
    from majed_vanna.api.policy import release_connections

    def record():
        try:
            return tool_call_record(**kwargs)
        finally:
            release_connections()

    return await sync_to_async(record)()
