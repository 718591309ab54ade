"""GET audit-logs stays flat as the log grows: no COUNT(*) over the table on a page, has_next from one extra row,
total exact on small logs and an estimate on large ones, filters served by indexes (PostgreSQL)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts import selectors
from accounts.models import AuditLog
from accounts.tests.helpers import AUDIT_URL
from majed_vanna.api.pagination import EstimatedTotalPagination
from majed_vanna.tests.list_queries import (
    assert_page_queries_flat,
    captured,
    on_table,
    postgres_plan,
    unbounded_counts,
)

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="EXPLAIN plans and planner estimates are PostgreSQL's"
)


def add_rows(count: int, **fields) -> None:
    now = timezone.now()
    rows = [AuditLog(action="test.row", resource="thing", user_id="u-1", **fields) for _ in range(count)]
    AuditLog.objects.bulk_create(rows)
    # auto_now_add stamps one time on all: spread them so newest-first is meaningful.
    for offset, pk in enumerate(AuditLog.objects.filter(action="test.row").values_list("pk", flat=True)):
        AuditLog.objects.filter(pk=pk).update(timestamp=now - timedelta(seconds=offset))


@pytest.fixture
def small_limits(monkeypatch):
    """A "large" log without a million rows: beyond 10 rows, totals are estimates."""
    monkeypatch.setattr(EstimatedTotalPagination, "exact_count_limit", 10)
    monkeypatch.setattr(EstimatedTotalPagination, "fallback_count_limit", 10)


def page(client, **params) -> dict:
    response = client.get(AUDIT_URL, params)
    assert response.status_code == 200, response.content
    return response.json()["data"]


def test_a_page_of_a_large_log_never_counts_the_whole_table(admin, api_client_for, small_limits):
    add_rows(30)
    client = api_client_for(admin)
    for params in ({"per_page": 5}, {"per_page": 5, "action": "test.row"}, {"per_page": 5, "page": 3}):
        queries = captured(client, AUDIT_URL, params)
        assert unbounded_counts(queries) == [], queries
        data = page(client, **params)
        assert data["has_next"] is True and data["total_is_estimate"] is True
        assert data["total"] >= data["page"] * 5 + 1  # never less than what the page proved
        assert len(data["logs"]) == 5


def test_the_last_page_is_exact_without_any_count(admin, api_client_for, small_limits):
    add_rows(30)
    client = api_client_for(admin)
    params = {"per_page": 20, "page": 2, "action": "test.row"}
    assert [sql for sql in captured(client, AUDIT_URL, params) if "COUNT(" in sql] == []
    data = page(client, **params)
    assert (data["total"], data["total_is_estimate"], data["has_next"], len(data["logs"])) == (30, False, False, 10)


def test_a_small_log_has_an_exact_total(admin, api_client_for):
    add_rows(12)
    data = page(api_client_for(admin), per_page=5, action="test.row")
    assert (data["total"], data["total_is_estimate"], data["has_next"]) == (12, False, True)
    assert [row["id"] for row in data["logs"]] == sorted((row["id"] for row in data["logs"]), reverse=True)


def test_past_the_end_of_a_large_log_is_empty_and_the_total_no_more_than_the_rows_skipped(
    admin, api_client_for, small_limits
):
    add_rows(30)
    data = page(api_client_for(admin), per_page=5, page=100, action="test.row")
    assert data["logs"] == [] and data["has_next"] is False
    assert 11 <= data["total"] <= 495


@pytest.mark.parametrize("page_number", ["9223372036854775807", "99999999999999999999"])
def test_a_page_beyond_any_offset_is_empty_not_a_500(admin, api_client_for, page_number):
    data = page(api_client_for(admin), page=page_number)
    assert data["logs"] == [] and data["has_next"] is False


def test_page_queries_do_not_grow_with_the_page(admin, api_client_for, django_assert_num_queries):
    add_rows(30)
    client = api_client_for(admin)
    baseline = assert_page_queries_flat(django_assert_num_queries, client, AUDIT_URL, {"action": "test.row"})
    # The page, and a count that stops after 1001 rows (on PostgreSQL after the planner's estimate, an EXPLAIN).
    explains = [sql for sql in baseline if sql.startswith("EXPLAIN")]
    assert len(on_table(baseline, "accounts_auditlog")) == 2 + len(explains)
    assert len(explains) == (1 if connection.vendor == "postgresql" else 0)


@postgres_only
def test_the_estimate_follows_the_planner_on_postgresql(admin, api_client_for, small_limits):
    add_rows(200)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accounts_auditlog")
    data = page(api_client_for(admin), per_page=5, action="test.row")
    assert data["total_is_estimate"] is True
    assert 100 <= data["total"] <= 400  # the planner's estimate of 200 rows, not a count


@postgres_only
@pytest.mark.parametrize(
    ("params", "index"),
    [
        ({}, "audit_time_idx"),
        ({"action": "auth.login"}, "audit_action_time_idx"),
        ({"user_id": "u-1"}, "audit_user_time_idx"),
        ({"resource": "user"}, "audit_resource_time_idx"),
        ({"action": "auth.login", "since": "2026-01-01T00:00:00Z"}, "audit_action_time_idx"),
    ],
)
def test_each_filter_reads_its_page_off_an_index_without_sorting(params, index):
    plan = postgres_plan(selectors.audit_log_list(params=params)[:21])
    assert index in plan, plan
    assert '"Sort"' not in plan and "Seq Scan" not in plan, plan
