"""Shared endpoint checks in the NetBox manner (``APIViewTestCases``): every operation of the OpenAPI schema is
declared once, and the same checks run against each declaration (``test_endpoints.py``).

An app declares its routes in ``<app>/tests/endpoints.py`` as ``ENDPOINTS = [Endpoint(...), ...]``. A route in
the schema without a declaration fails, and so does a URL routed under ``/api/v1/`` but missing from the schema.

What a declaration says, and which checks it turns on:

- ``permission``: the contract §4 permission the operation needs (``None``: any authenticated caller at view
  level); ``denied``: callers (see ``CALLERS``) that lack it -> 403 PERMISSION_DENIED with a ``permission.denied``
  audit row. ``public=True``: anonymous callers are served (no 401 check).
- Every non-public operation: anonymous -> 401 AUTHENTICATION_FAILED with ``WWW-Authenticate``; an admin who must
  change their password -> 403 PASSWORD_CHANGE_REQUIRED unless ``password_change_exempt`` (contract §4 lists the
  exempt ones; they must then not answer that code); an integration client without the permission (or any
  client, when ``users_only`` or when the permission is not one a client can hold) -> 403, audited.
- ``target``: builds an object the ``allowed`` caller may see and returns the path's kwargs. With path
  parameters it also turns on: an unknown (well-formed) id -> 404, each of ``malformed`` -> 404 (never 422/500),
  and each ``hidden`` pair (a caller, an object it may not see) -> 404 RESOURCE_NOT_FOUND.
- ``results_key``: a list: the allowed caller gets ``{<results_key>: [...], total, page, per_page, has_next}``;
  ``page=0``, ``per_page=101``, ``page=abc`` and each of ``bad_queries`` -> 422 VALIDATION_ERROR whose
  ``details`` names the parameter.
- ``bad_body``: a body the operation refuses -> 422 VALIDATION_ERROR with ``details``.
- POST: ``idempotent`` (default) -> an over-long ``Idempotency-Key`` is refused (422, ``details`` names the
  header), proving the key is honoured; ``idempotent=False`` -> the header is ignored.
- Every operation whose schema takes a JSON body: JSON nested 10,000 levels deep -> 400 BAD_REQUEST, refused
  before decoding (never a 500 from a ``RecursionError``).
- ``ok``: a GET answers 200 with the success envelope for the allowed caller (set ``ok=False`` for a non-JSON
  answer such as a download, and say why).

Every JSON answer of every check must carry the envelope (contract §1) and ``X-Request-Id``.
"""

import importlib
import importlib.util
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

API_PREFIX = "/api/v1/"
UNKNOWN_ID = "00000000-0000-4000-8000-00000000beef"
RESOLVABLE_ID = "0" * 36  # matches every lookup pattern (UUIDs, client ids, names)
DEFAULT_MALFORMED = ("not-an-id", "-" * 36)
PAGE_QUERIES = ({"page": "0"}, {"per_page": "101"}, {"page": "abc"})
OVERLONG_IDEMPOTENCY_KEY = "k" * 256
NESTED_JSON = b"[" * 10_000

# Routed under /api/v1/ but deliberately not operations of the schema.
UNDOCUMENTED_ROUTES = {
    "schema/": "the OpenAPI document itself",
    "docs/": "Swagger UI, an HTML page that renders the schema",
    "redoc/": "ReDoc, an HTML page that renders the schema",
}

# Caller kinds a declaration may name. "mcp": an admin who must change their password.
CALLERS = ("anonymous", "normal", "superuser", "admin", "mcp")


@dataclass(frozen=True)
class Hidden:
    """``caller`` asks for the object ``target()`` builds (returns the path kwargs) and must get 404."""

    caller: str
    target: Callable[[], dict]
    label: str


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # as the schema writes it: /api/v1/users/{user_id}
    permission: str | None = None
    public: bool = False
    denied: tuple[str, ...] = ()
    allowed: str = "admin"
    users_only: bool = False
    password_change_exempt: bool = False
    idempotent: bool = True
    target: Callable[[], dict] | None = None
    unknown: str = UNKNOWN_ID  # a well-formed id that names nothing
    malformed: tuple[str, ...] = DEFAULT_MALFORMED
    hidden: tuple[Hidden, ...] = ()
    results_key: str | None = None
    bad_queries: tuple[dict, ...] = ()
    bad_body: dict | None = None
    throttle_body: dict | None = None  # the body of the rate-limit check's request (default: bad_body)
    throttled: bool = True  # False: declares no rate-limit scope (liveness), so sends no X-RateLimit-* headers
    ok: bool = True
    multipart: bool = False
    notes: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.method.upper(), self.path)

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    def url(self, kwargs: dict | None = None) -> str:
        kwargs = kwargs or {}
        return re.sub(r"{(\w+)}", lambda m: str(kwargs.get(m.group(1), UNKNOWN_ID)), self.path)


# --- declarations and the schema


def local_apps() -> list[str]:
    """The project's own apps (top-level packages of ``BASE_DIR``, not installed packages in a virtualenv inside
    it), whatever form INSTALLED_APPS names them in."""
    base = Path(settings.BASE_DIR).resolve()
    return [config.name for config in apps.get_app_configs() if Path(config.path).resolve().parent == base]


def declared_endpoints() -> dict[tuple[str, str], Endpoint]:
    """Every app's ``tests/endpoints.py`` ``ENDPOINTS``, by (METHOD, path). A route declared twice fails here."""
    found: dict[tuple[str, str], Endpoint] = {}
    for app in local_apps():
        if importlib.util.find_spec(f"{app}.tests") is None or not importlib.util.find_spec(f"{app}.tests.endpoints"):
            continue
        for endpoint in importlib.import_module(f"{app}.tests.endpoints").ENDPOINTS:
            assert endpoint.key not in found, f"{endpoint.label} is declared twice"
            found[endpoint.key] = endpoint
    return found


def schema_document() -> dict:
    """The OpenAPI document, from drf-spectacular's generator."""
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def schema_operations(schema: dict | None = None) -> set[tuple[str, str]]:
    """(METHOD, path) of every operation in the OpenAPI document."""
    schema = schema or schema_document()
    return {(method.upper(), path) for path, item in schema["paths"].items() for method in item}


def json_body_operations(schema: dict | None = None) -> set[tuple[str, str]]:
    """(METHOD, path) of every operation whose request body may be JSON."""
    schema = schema or schema_document()
    return {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if "application/json" in (operation.get("requestBody") or {}).get("content", {})
    }


def _walk(patterns, prefix: str = ""):
    for pattern in patterns:
        route = URLResolver._join_route(prefix, str(pattern.pattern))
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def _methods(callback) -> set[str]:
    """The HTTP methods a routed view serves, OPTIONS and HEAD aside (every view answers those)."""
    actions = getattr(callback, "actions", None)
    if actions:  # a DRF viewset route
        return {method.upper() for method in actions if method not in ("options", "head")}
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is None:
        return {"GET"}
    return {
        method.upper()
        for method in view_class.http_method_names
        if method not in ("options", "head") and hasattr(view_class, method)
    }


def routed_operations() -> dict[tuple[str, str], str]:
    """(METHOD, route) -> a readable route, for every URL pattern under /api/v1/ but the ignored ones."""
    routed = {}
    for route, callback in _walk(get_resolver().url_patterns):
        if not route.lstrip("^").startswith(API_PREFIX.lstrip("/")):
            continue
        rest = route.lstrip("^")[len(API_PREFIX) - 1 :]
        if rest in UNDOCUMENTED_ROUTES:
            continue
        for method in _methods(callback):
            routed[(method, route)] = f"{method} /{route.lstrip('^')}"
    return routed


def schema_routes(operations) -> set[tuple[str, str]]:
    """(METHOD, route) the schema's operations resolve to (path parameters filled with a sample value that
    every lookup pattern accepts); an operation that resolves to nothing resolves to no route."""
    routes = set()
    for method, path in operations:
        concrete = re.sub(r"{\w+}", RESOLVABLE_ID, path)
        for candidate in (concrete, concrete + "/"):  # contract paths have no trailing slash; routes take both
            try:
                routes.add((method, resolve(candidate).route))
            except Resolver404:
                continue
    return routes


# --- callers

_counter = itertools.count(1)


@dataclass
class Caller:
    kind: str
    principal: object
    client: APIClient


def _fresh_ip() -> str:
    n = next(_counter)
    return f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"


def make_user(role: str = "normal", **kwargs):
    from accounts.tests.factories import UserFactory

    return UserFactory(role=role, **kwargs)


def make_caller(kind: str) -> Caller:
    """A request client for a caller kind (``CALLERS``) or ``client:<perm>,<perm>`` (an integration client)."""
    http = APIClient(REMOTE_ADDR=_fresh_ip())
    if kind == "anonymous":
        return Caller(kind, None, http)
    if kind.startswith("client:"):
        from integrations.services import client_create

        permissions = [p for p in kind.partition(":")[2].split(",") if p]
        issued = client_create(name=f"Endpoint checks {next(_counter)}", permissions=permissions)
        http.credentials(HTTP_X_API_KEY=issued.api_key)
        return Caller(kind, issued.client, http)
    role = "admin" if kind == "mcp" else kind
    user = make_user(role, must_change_password=(kind == "mcp"))
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return Caller(kind, user, http)


def client_kind_without(permission: str | None) -> str:
    """An integration client holding every permission a client may hold, except ``permission``."""
    from accounts.permissions import INTEGRATION_PERMISSIONS

    return "client:" + ",".join(sorted(INTEGRATION_PERMISSIONS - {permission}))


def send(caller: Caller, endpoint: Endpoint, kwargs=None, *, query=None, body=None, url=None, **headers):
    url = url or endpoint.url(kwargs)
    method = endpoint.method.lower()
    if method == "get":
        return caller.client.get(url, query or {}, **headers)
    if query:
        url = f"{url}?{'&'.join(f'{k}={v}' for k, v in query.items())}"
    if endpoint.multipart:
        return getattr(caller.client, method)(url, body or {}, format="multipart", **headers)
    return getattr(caller.client, method)(url, body if body is not None else {}, format="json", **headers)


# --- what every answer must look like


def assert_envelope(response, *, success: bool | None = None) -> dict:
    """Contract §1: the envelope, and ``X-Request-Id`` equal to its ``request_id``."""
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.headers
    payload = response.json()
    request_id = response.headers.get("X-Request-Id")
    assert request_id, "no X-Request-Id header"
    assert payload.get("request_id") == request_id, payload
    assert payload.get("timestamp"), payload
    if success is not None:
        assert payload.get("success") is success, payload
    if payload.get("success") is True:
        assert {"success", "data", "message", "timestamp", "request_id"} <= set(payload), payload
    else:
        assert payload.get("success") is False, payload
        assert {"code", "message"} <= set(payload["error"]), payload
    return payload


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:500])
    payload = assert_envelope(response, success=False)
    assert payload["error"]["code"] == code, payload
    return payload


def denied_audit_rows(principal) -> int:
    """``permission.denied`` audit rows with ``principal`` as the actor."""
    from accounts.models import AuditLog

    actor_id = getattr(principal, "client_id", None) or str(principal.pk)
    return AuditLog.objects.filter(action="permission.denied", user_id=actor_id).count()


# --- the checks: each takes the endpoint (and one argument) and makes real requests


def _kwargs(endpoint: Endpoint) -> dict:
    return endpoint.target() if endpoint.target else {}


def check_anonymous(endpoint: Endpoint, _=None):
    response = send(make_caller("anonymous"), endpoint, _kwargs(endpoint))
    assert_error(response, 401, "AUTHENTICATION_FAILED")
    assert response.headers.get("WWW-Authenticate"), "a 401 without WWW-Authenticate"


def check_denied(endpoint: Endpoint, kind: str):
    caller = make_caller(kind)
    kwargs = _kwargs(endpoint)
    before = denied_audit_rows(caller.principal)
    assert_error(send(caller, endpoint, kwargs), 403, "PERMISSION_DENIED")
    assert denied_audit_rows(caller.principal) == before + 1, "the refusal was not audited (permission.denied)"


def check_integration_client(endpoint: Endpoint, _=None):
    check_denied(endpoint, client_kind_without(endpoint.permission))


def check_password_change_required(endpoint: Endpoint, _=None):
    response = send(make_caller("mcp"), endpoint, _kwargs(endpoint))
    if endpoint.password_change_exempt:
        payload = assert_envelope(response)
        assert (payload.get("error") or {}).get("code") != "PASSWORD_CHANGE_REQUIRED", payload
    else:
        assert_error(response, 403, "PASSWORD_CHANGE_REQUIRED")


def check_unknown_id(endpoint: Endpoint, _=None):
    kwargs = dict.fromkeys(endpoint.path_params, endpoint.unknown)
    resolve(endpoint.url(kwargs))  # the view answers, not the router: declare an id the route accepts
    assert_error(send(make_caller(endpoint.allowed), endpoint, kwargs), 404, "RESOURCE_NOT_FOUND")


def check_malformed_id(endpoint: Endpoint, value: str):
    kwargs = dict.fromkeys(endpoint.path_params, value)
    assert_error(send(make_caller(endpoint.allowed), endpoint, kwargs), 404, "RESOURCE_NOT_FOUND")


def check_hidden(endpoint: Endpoint, hidden: Hidden):
    caller = make_caller(hidden.caller)
    assert_error(send(caller, endpoint, hidden.target()), 404, "RESOURCE_NOT_FOUND")


def check_list_shape(endpoint: Endpoint, _=None):
    response = send(make_caller(endpoint.allowed), endpoint, _kwargs(endpoint), query={"per_page": "5"})
    assert response.status_code == 200, response.content[:500]
    data = assert_envelope(response, success=True)["data"]
    # Contract §2's keys; a list may add its own (the audit log's ``total_is_estimate``).
    assert {endpoint.results_key, "total", "page", "per_page", "has_next"} <= set(data), data
    assert isinstance(data[endpoint.results_key], list)
    assert (data["page"], data["per_page"]) == (1, 5)
    assert isinstance(data["total"], int) and isinstance(data["has_next"], bool)


def check_bad_query(endpoint: Endpoint, query: dict):
    response = send(make_caller(endpoint.allowed), endpoint, _kwargs(endpoint), query=query)
    details = assert_error(response, 422, "VALIDATION_ERROR")["error"]["details"]
    assert isinstance(details, dict) and set(query) & set(details), details


def check_bad_body(endpoint: Endpoint, _=None):
    caller = make_caller("anonymous" if endpoint.public else endpoint.allowed)
    response = send(caller, endpoint, _kwargs(endpoint), body=endpoint.bad_body)
    details = assert_error(response, 422, "VALIDATION_ERROR")["error"]["details"]
    assert isinstance(details, dict) and details, details


def check_nested_json(endpoint: Endpoint, _=None):
    """JSON nested far deeper than ``MAX_JSON_DEPTH``: 400 BAD_REQUEST, before authentication decides anything
    else (anonymous login and refresh included)."""
    caller = make_caller("anonymous" if endpoint.public else endpoint.allowed)
    url = endpoint.url(_kwargs(endpoint))
    response = getattr(caller.client, endpoint.method.lower())(url, NESTED_JSON, content_type="application/json")
    assert_error(response, 400, "BAD_REQUEST")


def check_idempotency_key(endpoint: Endpoint, _=None):
    caller = make_caller("anonymous" if endpoint.public else endpoint.allowed)
    response = send(
        caller, endpoint, _kwargs(endpoint), body=endpoint.bad_body, HTTP_IDEMPOTENCY_KEY=OVERLONG_IDEMPOTENCY_KEY
    )
    payload = assert_envelope(response)
    details = (payload.get("error") or {}).get("details") or {}
    if endpoint.idempotent:
        assert response.status_code == 422, (response.status_code, payload)
        assert "Idempotency-Key" in details, payload
    else:
        assert "Idempotency-Key" not in details, payload


def check_rate_limit_headers(endpoint: Endpoint, _=None):
    """Contract §3: every throttled endpoint (all but liveness) sends its counters; an unthrottled one none."""
    caller = make_caller("anonymous" if endpoint.public else endpoint.allowed)
    body = endpoint.throttle_body if endpoint.throttle_body is not None else endpoint.bad_body
    # A POST is counted, then refused for its over-long Idempotency-Key: nothing runs (no backup, no probe).
    headers = {"HTTP_IDEMPOTENCY_KEY": OVERLONG_IDEMPOTENCY_KEY} if endpoint.method.upper() == "POST" else {}
    response = send(caller, endpoint, _kwargs(endpoint), body=body, **headers)
    headers = {name: response.headers.get(f"X-RateLimit-{name}") for name in ("Limit", "Remaining", "Reset")}
    if not endpoint.throttled:
        assert headers == dict.fromkeys(headers), headers
        return
    assert all(value and value.isdigit() for value in headers.values()), (response.status_code, headers)
    assert int(headers["Remaining"]) < int(headers["Limit"]), headers


def _allow(response) -> set[str]:
    return {method.strip() for method in response.headers.get("Allow", "").split(",") if method.strip()}


def check_method_not_allowed(endpoint: Endpoint, argument: tuple[str, tuple[str, ...]]):
    """A method the path does not document: 405 METHOD_NOT_ALLOWED with ``Allow`` naming the documented ones."""
    method, documented = argument
    response = make_caller(endpoint.allowed).client.generic(method, endpoint.url(_kwargs(endpoint)))
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert set(documented) <= _allow(response), response.headers.get("Allow")


def check_options(endpoint: Endpoint, documented: tuple[str, ...]):
    """OPTIONS answers every path alike (one request policy): 200, the envelope, ``Allow`` with OPTIONS."""
    response = make_caller(endpoint.allowed).client.options(endpoint.url(_kwargs(endpoint)))
    assert response.status_code == 200, (response.status_code, response.content[:300])
    assert_envelope(response, success=True)
    assert {*documented, "OPTIONS"} <= _allow(response), response.headers.get("Allow")


def check_ok(endpoint: Endpoint, _=None):
    caller = make_caller("anonymous" if endpoint.public else endpoint.allowed)
    response = send(caller, endpoint, _kwargs(endpoint))
    assert response.status_code == 200, response.content[:500]
    assert_envelope(response, success=True)


CHECKS = {
    "401 anonymous": check_anonymous,
    "403 denied": check_denied,
    "403 integration client": check_integration_client,
    "403 password change": check_password_change_required,
    "404 unknown id": check_unknown_id,
    "404 malformed id": check_malformed_id,
    "404 hidden": check_hidden,
    "200 list shape": check_list_shape,
    "422 bad query": check_bad_query,
    "422 bad body": check_bad_body,
    "400 nested JSON": check_nested_json,
    "idempotency key": check_idempotency_key,
    "rate-limit headers": check_rate_limit_headers,
    "405": check_method_not_allowed,
    "OPTIONS": check_options,
    "200 ok": check_ok,
}


def _needs_client_check(endpoint: Endpoint) -> bool:
    return endpoint.users_only or endpoint.permission is not None


def endpoint_checks(endpoint: Endpoint, *, json_body: bool = False):
    """(check name, argument, id suffix) for every check the declaration turns on; ``json_body``: the schema
    says the operation takes a JSON body."""
    method = endpoint.method.upper()
    if not endpoint.public:
        yield "401 anonymous", None, ""
        yield "403 password change", None, ""
        for kind in endpoint.denied:
            yield "403 denied", kind, f" {kind}"
        if _needs_client_check(endpoint):
            yield "403 integration client", None, ""
    if endpoint.path_params and endpoint.target is not None:
        yield "404 unknown id", None, ""
        for value in endpoint.malformed:
            yield "404 malformed id", value, f" {value!r}"
        for hidden in endpoint.hidden:
            yield "404 hidden", hidden, f" {hidden.label}"
    if endpoint.results_key:
        yield "200 list shape", None, ""
        for query in (*PAGE_QUERIES, *endpoint.bad_queries):
            yield "422 bad query", query, " " + "&".join(f"{k}={v}" for k, v in query.items())
    elif method == "GET" and endpoint.ok:
        yield "200 ok", None, ""
    if endpoint.bad_body is not None:
        yield "422 bad body", None, ""
    if json_body:
        yield "400 nested JSON", None, ""
    if method == "POST":
        yield "idempotency key", None, "" if endpoint.idempotent else " ignored"
    if method != "GET" or endpoint.ok:
        yield "rate-limit headers", None, ""


def path_checks(declared: dict[tuple[str, str], Endpoint]):
    """(endpoint, check, argument, id suffix) per path, asked of the path's first declaration: OPTIONS, and one
    method the path does not document."""
    by_path: dict[str, list[Endpoint]] = {}
    for endpoint in declared.values():
        by_path.setdefault(endpoint.path, []).append(endpoint)
    for endpoints in by_path.values():
        documented = tuple(sorted(endpoint.method.upper() for endpoint in endpoints))
        other = next(m for m in ("DELETE", "PATCH", "PUT", "POST", "GET") if m not in documented)
        yield endpoints[0], "405", (other, documented), f" {other}"
        yield endpoints[0], "OPTIONS", documented, ""


PATH_CHECKS = frozenset({"405", "OPTIONS"})


def case_id(endpoint: Endpoint, check: str, suffix: str) -> str:
    label = endpoint.path if check in PATH_CHECKS else endpoint.label
    return f"{label} | {check}{suffix}"
