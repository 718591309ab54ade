"""The API docs (Swagger UI, ReDoc) work without internet: every script, stylesheet, font and icon they
reference is served by the project itself (drf-spectacular-sidecar, collected with the other static files)."""

import re

import pytest
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

DOC_PAGES = ["/api/v1/docs/", "/api/v1/redoc/"]
ATTRIBUTE_URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


@pytest.fixture
def collected_static(settings, tmp_path):
    """Static files collected as in production (``collectstatic``), served by WhiteNoise from STATIC_ROOT."""
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", "--noinput", verbosity=0)
    return settings.STATIC_ROOT


@pytest.mark.parametrize("page", DOC_PAGES)
def test_doc_pages_name_no_other_host(client, page):
    response = client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}", html) == []


@pytest.mark.parametrize("page", DOC_PAGES)
def test_every_asset_of_the_doc_pages_is_served_locally(collected_static, page):
    client = Client()  # a new client loads the middleware, so WhiteNoise sees the collected files
    html = client.get(page).content.decode()
    assets = [url for url in ATTRIBUTE_URL.findall(html) if not url.startswith("/api/")]
    assert assets, "the page references no script or stylesheet"
    for url in assets:
        assert url.startswith("/static/drf_spectacular_sidecar/"), url
        response = client.get(url)
        assert response.status_code == 200, url
        assert int(response["Content-Length"]) > 0, url


# --- the schema and the doc pages under the request policy (found by the review of issue 12) ---------------
# They were plain drf-spectacular views: no rate limit at all, although building the schema costs 0.1-0.4 s of
# CPU per anonymous request, and OPTIONS on the HTML pages answered 500 (TemplateDoesNotExist).

SCHEMA = "/api/v1/schema/"


@pytest.mark.parametrize("page", [*DOC_PAGES, SCHEMA])
def test_options_on_the_docs_is_not_a_server_error(client, page):
    response = client.options(page)
    assert response.status_code == 200
    assert "GET" in response["Allow"]


@pytest.mark.parametrize(("page", "scope"), [(SCHEMA, "api.schema"), *((page, "api.docs") for page in DOC_PAGES)])
def test_the_schema_and_the_doc_pages_are_throttled_per_caller(client, monkeypatch, page, scope):
    from majed_vanna.api import scopes

    monkeypatch.setitem(scopes.DEFAULT_RATES, scope, "2/hour")
    first = client.get(page)
    assert first.status_code == 200
    assert first["X-RateLimit-Limit"] == "2" and first["X-RateLimit-Remaining"] == "1"
    assert client.get(page).status_code == 200
    refused = client.get(page)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0 and refused["X-RateLimit-Remaining"] == "0"


def test_the_schema_has_a_rate_of_its_own():
    from majed_vanna.api.scopes import DEFAULT_RATES

    assert "api.schema" in DEFAULT_RATES
