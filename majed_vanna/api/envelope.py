"""The response envelopes of contract §1, built in one place for DRF views, plain Django views,
async views and middleware alike."""

import json
from datetime import UTC, datetime
from typing import Any

from django.http import JsonResponse
from django.utils.encoding import force_str

from majed_vanna.request_context import current_request_id

DEFAULT_SUCCESS_MESSAGE = "Operation completed successfully"

# Codes for statuses that reach us without an ApplicationError (Django's own handlers, middleware).
STATUS_CODES = {
    400: ("BAD_REQUEST", "Bad request"),
    401: ("AUTHENTICATION_FAILED", "Authentication credentials were missing or invalid"),
    403: ("PERMISSION_DENIED", "You do not have permission to perform this action"),
    404: ("RESOURCE_NOT_FOUND", "Resource not found"),
    405: ("METHOD_NOT_ALLOWED", "Method not allowed"),
    406: ("NOT_ACCEPTABLE", "The requested response format is not available"),
    409: ("CONFLICT", "The request conflicts with the current state"),
    413: ("PAYLOAD_TOO_LARGE", "Request body is too large"),
    415: ("BAD_REQUEST", "Unsupported content type"),
    422: ("VALIDATION_ERROR", "Invalid input parameters"),
    429: ("RATE_LIMIT_EXCEEDED", "Too many requests"),
    500: ("INTERNAL_ERROR", "An unexpected error occurred"),
    503: ("SERVICE_UNAVAILABLE", "A dependency is unavailable"),
}


def utc_timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def success_envelope(data: Any, message: str | None = None) -> dict:
    return {
        "success": True,
        "data": data,
        "message": message or DEFAULT_SUCCESS_MESSAGE,
        "timestamp": utc_timestamp(),
        "request_id": current_request_id(),
    }


def error_envelope(code: str, message: str, details: Any = None) -> dict:
    return {
        "success": False,
        "error": {"code": code, "message": force_str(message), "details": details},
        "timestamp": utc_timestamp(),
        "request_id": current_request_id(),
    }


def error_for_status(status: int) -> tuple[str, str]:
    if status in STATUS_CODES:
        return STATUS_CODES[status]
    return STATUS_CODES[500] if status >= 500 else STATUS_CODES[400]


def error_response(
    status: int, code: str | None = None, message: str | None = None, details: Any = None, headers: dict | None = None
) -> JsonResponse:
    """A plain Django JSON response holding the error envelope (for non-DRF code paths)."""
    default_code, default_message = error_for_status(status)
    response = JsonResponse(error_envelope(code or default_code, message or default_message, details), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def success_response(data: Any, message: str | None = None, status: int = 200) -> JsonResponse:
    return JsonResponse(success_envelope(data, message), status=status)


def is_json_response(response) -> bool:
    return "json" in response.get("Content-Type", "")


def sse_event(payload: dict) -> str:
    """One server-sent event line: ``data: <json>``."""
    return f"data: {json.dumps(payload, default=str)}\n\n"
