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


# --- Postprocessing: the schema as strict as the API, and links for stateful clients.


def page_bounds(result, generator, request, public):
    """Every ``page``/``per_page`` query parameter, however its view declared it, gets the bounds the pagination
    enforces (422 outside them; ``majed_vanna.api.pagination``)."""
    from .pagination import page_parameter_schemas

    schemas = page_parameter_schemas()
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and parameter.get("name") in schemas:
                    parameter["schema"] = dict(schemas[parameter["name"]])
    return result


def _resolve(result: dict, node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        node = result.get("components", {}).get("schemas", {}).get(node["$ref"].rsplit("/", 1)[-1], {})
    return node or {}


def _data_properties(result: dict, response: dict) -> dict:
    schema = _resolve(result, ((response.get("content") or {}).get("application/json") or {}).get("schema", {}))
    data = schema.get("properties", {}).get("data", {}) if "success" in schema.get("properties", {}) else schema
    return _resolve(result, data).get("properties", {})


def _id_field(parameter: str, properties: dict) -> str | None:
    """The answer's field that holds the new object's id for path parameter ``parameter``."""
    if parameter in properties:
        return parameter
    ids = [name for name in properties if name.endswith("_id")]
    return ids[0] if parameter == "id" and len(ids) == 1 else None


def _link_name(operation_id: str) -> str:
    return "".join(part.capitalize() for part in operation_id.split("_"))


def add_links(result, generator, request, public):
    """OpenAPI links from each create to the operations on what it created, so a stateful client (a fuzzer)
    can chain create -> read -> update -> delete.

    A create is a ``POST`` on a collection path ``P`` (or on ``P/<action>``, e.g. ``backups/upload``) whose
    success answer carries the new object's id; its links point at every operation under ``P/{param}``, with
    ``param`` filled from ``$response.body#/data/<id field>`` (the field named like the parameter, or for a
    bare ``{id}`` the answer's one ``*_id`` field).
    """
    paths = result.get("paths", {})
    for path, path_item in paths.items():
        operation = path_item.get("post")
        if "{" in path or not isinstance(operation, dict):
            continue
        parents = [path, path.rsplit("/", 1)[0]]
        for parent in parents:
            targets = _object_operations(paths, parent)
            if targets:
                break
        else:
            continue
        for status, response in operation.get("responses", {}).items():
            if not str(status).startswith("2"):
                continue
            properties = _data_properties(result, response)
            links = {}
            for parameter, operation_id in targets:
                field = _id_field(parameter, properties)
                if field is not None:
                    links[_link_name(operation_id)] = {
                        "operationId": operation_id,
                        "parameters": {parameter: f"$response.body#/data/{field}"},
                    }
            if links:
                response["links"] = links
    return result


def _object_operations(paths: dict, collection: str) -> list[tuple[str, str]]:
    """(path parameter, operationId) of every operation under ``collection/{param}`` with that one parameter."""
    found = []
    prefix = collection.rstrip("/") + "/{"
    for path, path_item in paths.items():
        if not path.startswith(prefix):
            continue
        parameter, _, rest = path[len(prefix) :].partition("}")
        if "{" in rest:
            continue
        for operation in path_item.values():
            if isinstance(operation, dict) and operation.get("operationId"):
                found.append((parameter, operation["operationId"]))
    return found
