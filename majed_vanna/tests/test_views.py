"""``/`` leads somewhere useful (a small offline HTML page) and ``/api/v1/`` lists the API's entry points,
read from the URL configuration."""

import re

import pytest
from django.test import Client
from django.urls import include, path, reverse

from majed_vanna.api.viewsets import BaseAPIView
from majed_vanna.urls import api_v1

pytestmark = pytest.mark.django_db


class _ExtraView(BaseAPIView):
    def get(self, request):
        return self.ok({})


# For test_a_new_route_is_listed_without_editing_any_list: the project's API plus one more route.
urlpatterns = [
    path("api/v1/", include(([*api_v1, path("extra-probe", _ExtraView.as_view(), name="extra-probe")], "api-v1"))),
]


def links(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', html)


def test_home_is_a_page_linking_docs_redoc_index_admin_and_health(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    found = links(response.content.decode())
    for name in ("api-v1:docs", "api-v1:redoc", "api-v1:root", "admin:index", "api-v1:health"):
        assert reverse(name) in found, name


def test_every_link_of_the_home_page_leads_somewhere(client):
    for url in links(client.get("/").content.decode()):
        assert url.startswith("/"), url  # no other host: the page works offline
        assert client.get(url).status_code in (200, 302, 503), url  # admin redirects to its login


def test_home_shows_the_chat_link_once_a_chat_route_exists(client, settings):
    assert "Chat" not in client.get("/").content.decode()
    settings.ROOT_URLCONF = "majed_vanna.tests.urls_with_chat"
    assert '<a href="/chat/">Chat</a>' in Client().get("/").content.decode()


def test_api_index_lists_entry_points_as_absolute_urls(api_client):
    response = api_client.get("/api/v1/")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    points = body["data"]["entry_points"]
    assert points["users-list"] == "http://testserver/api/v1/users"
    assert points["auth-login"] == "http://testserver/api/v1/auth/login"
    assert points["backups-list"] == "http://testserver/api/v1/backups"
    assert points["docs"] == "http://testserver/api/v1/docs/"
    assert points["health"] == "http://testserver/api/v1/health"
    assert "root" not in points
    assert not [name for name in points if name.endswith("-detail")]  # routes that need an id are not listed
    assert api_client.get("/api/v1").status_code == 200


def test_every_entry_point_answers(api_client_for, admin):
    client = api_client_for(admin)
    for name, url in client.get("/api/v1/").json()["data"]["entry_points"].items():
        assert client.get(url).status_code != 404, name


@pytest.mark.urls(__name__)
def test_a_new_route_is_listed_without_editing_any_list(api_client):
    points = api_client.get("/api/v1/").json()["data"]["entry_points"]
    assert points["extra-probe"] == "http://testserver/api/v1/extra-probe"


def test_api_index_is_documented(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1"]["get"]
    data = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert data  # the envelope around ApiIndexOutput
    assert "ApiIndexOutput" in str(schema["components"]["schemas"])
