"""drf-spectacular hooks: paths as the contract writes them, and the envelope around every JSON response
(contract §1)."""

ERROR_ENVELOPE = {
    "type": "object",
    "properties": {
        "success": {"type": "boolean", "enum": [False]},
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "example": "VALIDATION_ERROR"},
                "message": {"type": "string"},
                "details": {"type": "object", "nullable": True, "additionalProperties": True},
            },
            "required": ["code", "message"],
        },
        "timestamp": {"type": "string", "format": "date-time"},
        "request_id": {"type": "string"},
    },
    "required": ["success", "error", "timestamp", "request_id"],
}


def contract_paths(endpoints, **kwargs):
    """Preprocessing hook: document each path without a trailing slash, as the contract writes it.

    Routes answer with or without the slash (``ApiRouter``'s ``/?``, ``re_path(r"^config/?$")``), which
    drf-spectacular renders as ``/api/v1/users/``; the schema shows ``/api/v1/users``. Should an app route
    both forms separately, the operation is documented once.
    """
    documented = []
    seen = set()
    for path, path_regex, method, callback in endpoints:
        path = path.rstrip("/") or "/"
        if (path, method) not in seen:
            seen.add((path, method))
            documented.append((path, path_regex, method, callback))
    return documented


def _success(data_schema: dict) -> dict:
    return {
        "type": "object",
        "properties": {
            "success": {"type": "boolean", "enum": [True]},
            "data": data_schema,
            "message": {"type": "string"},
            "timestamp": {"type": "string", "format": "date-time"},
            "request_id": {"type": "string"},
        },
        "required": ["success", "data", "message", "timestamp", "request_id"],
    }


def wrap_in_envelope(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["ErrorEnvelope"] = ERROR_ENVELOPE
    error_ref = {"$ref": "#/components/schemas/ErrorEnvelope"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for code, response in operation["responses"].items():
                success = str(code).startswith("2")
                if not response.get("content"):
                    # Documented by description only (``OpenApiResponse(description=...)``, a delete): the
                    # body is still an envelope, with ``data: null`` on success (contract §1).
                    schema = _success({"nullable": True}) if success else error_ref
                    response["content"] = {"application/json": {"schema": schema}}
                    continue
                content = response["content"].get("application/json")
                if content and success:
                    content["schema"] = _success(content.get("schema", {}))
            if not any(str(code).startswith("2") for code in operation["responses"]):
                operation["responses"]["200"] = {
                    "description": "Success",
                    "content": {"application/json": {"schema": _success({"nullable": True})}},
                }
            operation["responses"].setdefault(
                "default",
                {
                    "description": "Error envelope (see contract §1 for codes)",
                    "content": {"application/json": {"schema": error_ref}},
                },
            )
    return result
