import pytest
from django.test import Client

from integrations.services import client_create
from integrations.signing import signed_headers

PROBE_URLS = "integrations.tests.urls"


@pytest.fixture
def make_client(db):
    """``make_client(["use_chat"], name=..., ...)`` -> ``IssuedClient`` (client, client_secret, api_key)."""

    def make(permissions=("use_chat",), **kwargs):
        kwargs.setdefault("name", "Reporting service")
        return client_create(permissions=list(permissions), **kwargs)

    return make


def send_signed(
    http: Client,
    issued,
    method: str,
    path: str,
    *,
    query: str = "",
    body: bytes = b"",
    content_type: str = "application/json",
    sign_method: str | None = None,
    sign_path: str | None = None,
    sign_query: str | None = None,
    sign_body: bytes | None = None,
    **header_overrides,
):
    """Sign (method, path, query, body) -- or the ``sign_*`` variants -- and send (method, path, query, body)."""
    headers = signed_headers(
        client_id=issued.client.client_id,
        secret=issued.client_secret,
        method=sign_method or method,
        path=sign_path if sign_path is not None else path,
        query=sign_query if sign_query is not None else query,
        body=sign_body if sign_body is not None else body,
    )
    headers.update({name.replace("_", "-"): value for name, value in header_overrides.items()})
    url = f"{path}?{query}" if query else path
    return http.generic(method, url, data=body, content_type=content_type, headers=headers)


@pytest.fixture
def signed(client):
    """``signed(issued, "POST", path, body=...)``: a correctly signed request through Django's test client."""

    def send(issued, method, path, **kwargs):
        return send_signed(client, issued, method, path, **kwargs)

    return send


def error_of(response) -> tuple[int, str | None, object]:
    body = response.json()
    error = body.get("error") or {}
    return response.status_code, error.get("code"), error.get("details")
