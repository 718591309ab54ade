"""GET users: one query reads the page and its total (a ``search`` scans once), ``ordering=-created_at`` reads an
index, bad parameters name the allowed values, and a page's queries do not grow with its length."""

import pytest
from django.db import connection

from accounts import selectors
from accounts.models import User
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import USERS_URL
from majed_vanna.api.pagination import with_total
from majed_vanna.tests.list_queries import assert_page_queries_flat, captured, on_table, postgres_plan

pytestmark = pytest.mark.django_db


def test_a_search_reads_the_users_table_once(admin, api_client_for):
    for index in range(7):
        UserFactory(username=f"match-{index}@example.com")
    UserFactory(username="other@example.com")
    client = api_client_for(admin)
    params = {"search": "MATCH", "per_page": 5}
    searches = [sql for sql in captured(client, USERS_URL, params) if "LIKE" in sql.upper()]
    assert len(searches) == 1, searches
    data = client.get(USERS_URL, params).json()["data"]
    assert (data["total"], data["has_next"], len(data["users"])) == (7, True, 5)


def test_the_last_page_and_past_the_end_keep_the_exact_total(admin, api_client_for):
    UserFactory.create_batch(6)
    client = api_client_for(admin)
    last = client.get(USERS_URL, {"per_page": 5, "page": 2}).json()["data"]
    assert (last["total"], last["has_next"], len(last["users"])) == (7, False, 2)
    past = client.get(USERS_URL, {"per_page": 5, "page": 4}).json()["data"]
    assert (past["total"], past["has_next"], past["users"]) == (7, False, [])


def test_a_bad_ordering_names_the_allowed_keys(admin, api_client_for):
    response = api_client_for(admin).get(USERS_URL, {"ordering": "bogus"})
    assert response.status_code == 422
    [message] = response.json()["error"]["details"]["ordering"]
    assert message.startswith("Select a valid choice. Allowed: username, -username, role, -role")
    assert "-created_at" in message


def test_a_bad_role_names_the_roles(admin, api_client_for):
    response = api_client_for(admin).get(USERS_URL, {"role": "root"})
    assert response.json()["error"]["details"]["role"] == ["Select a valid choice. Allowed: admin, superuser, normal."]


def test_newest_first_breaks_ties_by_id(admin, api_client_for):
    users = UserFactory.create_batch(3)
    User.objects.update(created_at=admin.created_at)
    listed = [
        u["user_id"] for u in api_client_for(admin).get(USERS_URL, {"ordering": "-created_at"}).json()["data"]["users"]
    ]
    assert listed == sorted((str(u.pk) for u in [admin, *users]), reverse=True)


def test_page_queries_do_not_grow_with_the_page(admin, api_client_for, django_assert_num_queries):
    UserFactory.create_batch(30)
    baseline = assert_page_queries_flat(django_assert_num_queries, api_client_for(admin), USERS_URL)
    # The caller's own row (authentication) and the page with its total: one query each.
    assert len(on_table(baseline, "accounts_user")) == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN plans are PostgreSQL's")
@pytest.mark.parametrize("ordering", ["-created_at", "created_at"])
def test_ordering_by_creation_reads_the_index(admin, ordering):
    queryset = selectors.user_list(actor=admin, params={"ordering": ordering})
    plan = postgres_plan(with_total(queryset)[:20])  # the page's query, as the paginator runs it
    assert "user_created_idx" in plan, plan
    assert '"Sort"' not in plan and "Seq Scan" not in plan, plan
