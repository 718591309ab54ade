"""``EnvelopePagination`` on a QuerySet: the page and its exact total come from one query, model rows and
``values()`` dicts alike, without the helper column leaking into the items."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from accounts.models import User
from accounts.tests.factories import UserFactory
from majed_vanna.api.pagination import TOTAL_ALIAS, EnvelopePagination

pytestmark = pytest.mark.django_db


class _View:
    results_key = "users"


def paginate(queryset, **params):
    paginator = EnvelopePagination()
    request = Request(APIRequestFactory().get("/", params))
    with CaptureQueriesContext(connection) as context:
        items = paginator.paginate_queryset(queryset, request, view=_View())
    return paginator.get_paginated_data(items), len(context.captured_queries)


@pytest.mark.parametrize("as_dicts", [False, True])
def test_page_and_total_in_one_query(as_dicts):
    UserFactory.create_batch(7)
    queryset = User.objects.order_by("username")
    if as_dicts:
        queryset = queryset.values("username")
    data, queries = paginate(queryset, per_page=3, page=2)
    assert queries == 1
    assert (data["total"], data["has_next"], len(data["users"])) == (7, True, 3)
    first = data["users"][0]
    assert TOTAL_ALIAS not in (first if as_dicts else vars(first))


def test_an_empty_list_needs_no_count_and_past_the_end_counts_once():
    assert paginate(User.objects.all())[0]["total"] == 0
    UserFactory.create_batch(2)
    data, queries = paginate(User.objects.all(), page=5)
    assert (data["total"], data["users"], queries) == (2, [], 2)


def test_a_distinct_queryset_is_counted_separately():
    UserFactory.create_batch(3, role="normal")
    data, queries = paginate(User.objects.values("role").distinct().order_by("role"))
    assert (data["total"], queries) == (1, 2)
