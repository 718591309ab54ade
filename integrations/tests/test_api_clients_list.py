"""GET integrations/clients: filters through ``ClientFilter`` (a bad value names the allowed ones), the creator
is joined, not fetched per row, and the page and total come from one query."""

import pytest

from majed_vanna.tests.list_queries import assert_page_queries_flat, on_table

LIST = "/api/v1/integrations/clients"
pytestmark = pytest.mark.django_db


def test_a_bad_status_names_the_statuses(admin, api_client_for):
    response = api_client_for(admin).get(LIST, {"status": "nope"})
    assert response.status_code == 422
    assert response.json()["error"]["details"] == {"status": ["Select a valid choice. Allowed: active, revoked."]}


def test_a_too_long_search_is_422(admin, api_client_for):
    response = api_client_for(admin).get(LIST, {"search": "x" * 101})
    assert response.status_code == 422 and set(response.json()["error"]["details"]) == {"search"}


def test_page_queries_do_not_grow_with_the_page(admin, api_client_for, make_client, django_assert_num_queries):
    for index in range(30):
        make_client(name=f"client {index}", actor=admin)
    baseline = assert_page_queries_flat(django_assert_num_queries, api_client_for(admin), LIST)
    assert len(on_table(baseline, "integrations_integrationclient")) == 1
