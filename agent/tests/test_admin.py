"""Django admin for data sources: the URL is write-only and shown masked; saving, deleting and testing go
through the audited services."""

import pytest
from django.test import Client

from accounts.models import AuditLog
from agent import selectors
from agent.models import DataSource

from .factories import PASSWORD, PG_URL, make_source

pytestmark = pytest.mark.django_db
ADD_URL = "/admin/agent/datasource/add/"


def staff_client(admin) -> Client:
    client = Client()
    client.force_login(admin)
    return client


def form(**overrides) -> dict:
    data = {
        "name": "Shop",
        "engine": "postgresql",
        "new_url": PG_URL,
        "enabled": "on",
        "roles": ["normal", "admin"],
        "statement_timeout_ms": 5000,
        "row_cap": 1000,
        "max_result_bytes": 5242880,
    }
    data.update(overrides)
    return data


def test_adding_a_source_goes_through_the_service_and_is_audited(admin):
    response = staff_client(admin).post(ADD_URL, form())
    assert response.status_code == 302, response.content.decode()[:2000]
    source = DataSource.objects.get(name="Shop")
    assert selectors.data_source_url(source) == PG_URL and source.roles == ["admin", "normal"]
    row = AuditLog.objects.get(action="data_source.create", resource_id=str(source.pk))
    assert row.username == admin.username and PASSWORD not in str(row.details)


def test_the_change_page_never_shows_the_password(admin):
    source = make_source(name="Shop", url=PG_URL)
    client = staff_client(admin)
    page = client.get(f"/admin/agent/datasource/{source.pk}/change/").content.decode()
    assert PASSWORD not in page and "postgresql://reader:********@db.example.com:5432/shop" in page
    assert PASSWORD not in client.get("/admin/agent/datasource/").content.decode()


def test_a_blank_url_on_change_keeps_it_and_problems_show_on_their_fields(admin):
    source = make_source(name="Shop", url=PG_URL)
    client = staff_client(admin)
    url = f"/admin/agent/datasource/{source.pk}/change/"
    response = client.post(url, form(new_url="", row_cap=20))
    assert response.status_code == 302, response.content.decode()[:2000]
    source.refresh_from_db()
    assert source.row_cap == 20 and selectors.data_source_url(source) == PG_URL
    refused = client.post(url, form(new_url="sqlite:////etc/passwd", engine="sqlite"))
    assert refused.status_code == 200 and "allowed roots" in refused.content.decode()
    source.refresh_from_db()
    assert selectors.data_source_url(source) == PG_URL


def test_the_default_source_cannot_be_deleted_here_either(admin):
    from agent.services import data_source_default_ensure

    default = data_source_default_ensure()
    response = staff_client(admin).post(f"/admin/agent/datasource/{default.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert DataSource.objects.filter(pk=default.pk).exists()


def test_the_test_action_reports_each_source_and_is_audited(admin, sqlite_url):
    source = make_source(name="Local", url=sqlite_url)
    response = staff_client(admin).post(
        "/admin/agent/datasource/",
        {"action": "test_connections", "_selected_action": [str(source.pk)]},
        follow=True,
    )
    assert "Local: Connected to the data source." in response.content.decode()
    assert AuditLog.objects.filter(action="data_source.test", resource_id=str(source.pk), success=True).exists()
