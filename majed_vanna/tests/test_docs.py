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
