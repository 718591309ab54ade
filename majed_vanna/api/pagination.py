"""``page``/``per_page`` pagination (contract §2): ``{<plural>: [...], total, page, per_page, has_next}``.

Out-of-range values answer 422 VALIDATION_ERROR; a page past the end is an empty list.

``EnvelopePagination`` reads a page and its exact ``total`` in one query (``COUNT(*) OVER ()``): a filter such as a
``search`` runs once, not once for the count and again for the page. ``EstimatedTotalPagination`` is for tables that
grow without bound (the audit log): it never counts the whole table, so a page costs the same at a thousand rows
and at a million (see its docstring).
"""

import json

from django.db import connections
from django.db.models import Count, QuerySet, Window
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from majed_vanna.exceptions import ValidationFailedError

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
# Past this offset the page is empty without asking the database (an offset beyond a bigint fails there).
MAX_OFFSET = 2**62
TOTAL_ALIAS = "_mv_page_total"


def _parse(request, name: str, default: int, low: int, high: int | None) -> tuple[int, list[str]]:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default, []
    try:
        value = int(raw)
    except ValueError:
        return default, ["A whole number is required."]
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        return default, [f"Must be {bounds}."]
    return value, []


def _windowable(queryset) -> bool:
    query = queryset.query
    return not (query.distinct or query.group_by is not None or query.combinator or query.is_sliced)


def _strip_total(row):
    if isinstance(row, dict):
        return row.pop(TOTAL_ALIAS, None)
    total = getattr(row, TOTAL_ALIAS, None)
    if total is not None:
        delattr(row, TOTAL_ALIAS)
    return total


def with_total(queryset: QuerySet) -> QuerySet:
    """``queryset`` whose every row also carries the number of rows matched (``COUNT(*) OVER ()``)."""
    return queryset.annotate(**{TOTAL_ALIAS: Window(expression=Count("*"))})


class EnvelopePagination(BasePagination):
    page_query_param = "page"
    page_size_query_param = "per_page"

    def _parse_page(self, request, view) -> int:
        """Validate ``page``/``per_page`` (422 with both fields' messages); return the offset."""
        page, page_errors = _parse(request, "page", 1, 1, None)
        per_page, per_page_errors = _parse(request, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
        errors = {k: v for k, v in (("page", page_errors), ("per_page", per_page_errors)) if v}
        if errors:
            raise ValidationFailedError(details=errors)
        self.results_key = getattr(view, "results_key", "results")
        self.page, self.per_page = page, per_page
        return (page - 1) * per_page

    def paginate_queryset(self, queryset, request, view=None):
        offset = self._parse_page(request, view)
        if not isinstance(queryset, QuerySet):
            items = list(queryset)
            self.total = len(items)
            return items[offset : offset + self.per_page]
        if offset >= MAX_OFFSET or not _windowable(queryset):
            self.total = queryset.count()
            return [] if offset >= self.total else list(queryset[offset : offset + self.per_page])
        rows = list(with_total(queryset)[offset : offset + self.per_page])
        totals = [_strip_total(row) for row in rows]
        # Past the end there is no row to carry the total: count (only on that page).
        self.total = totals[0] if rows else (queryset.count() if offset else 0)
        return rows

    def get_paginated_data(self, items) -> dict:
        return {
            self.results_key: items,
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "has_next": self.page * self.per_page < self.total,
        }

    def get_paginated_response(self, data):
        return Response(self.get_paginated_data(data))

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "properties": {
                "<results_key>": schema,
                "total": {"type": "integer"},
                "page": {"type": "integer"},
                "per_page": {"type": "integer"},
                "has_next": {"type": "boolean"},
            },
        }

    def get_schema_operation_parameters(self, view):
        schemas = page_parameter_schemas()
        return [{"name": name, "in": "query", "required": False, "schema": schema} for name, schema in schemas.items()]


def page_parameter_schemas() -> dict[str, dict]:
    """The OpenAPI schema of ``page`` and ``per_page``, as ``_parse_page`` enforces them: ``page`` has no maximum
    (contract §2: a page past the end is empty, never an error)."""
    return {
        "page": {"type": "integer", "minimum": 1, "default": 1},
        "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE},
    }


def _planner_rows(queryset: QuerySet) -> int:
    """PostgreSQL's estimate of how many rows ``queryset`` matches (EXPLAIN's top ``Plan Rows``): the table's
    statistics (``reltuples`` scaled to its current size) times the filter's selectivity. A plan, no scan."""
    connection = connections[queryset.db]
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedTotalPagination(EnvelopePagination):
    """Pages of a table too large to count on every request (the audit log); the §2 shape plus
    ``total_is_estimate``.

    The page is read with one extra row, which gives ``has_next`` exactly. ``total`` is exact when the page
    shows where the list ends (a last page), or when at most ``exact_count_limit`` rows match (PostgreSQL: the
    planner expects no more, and a count that stops after that many confirms it; other databases:
    ``fallback_count_limit``). Otherwise it is an estimate (``total_is_estimate``): on PostgreSQL the planner's,
    from the table's statistics without a scan; elsewhere the capped count. No query counts the whole table.
    """

    exact_count_limit = 1000
    fallback_count_limit = 100_000

    def paginate_queryset(self, queryset, request, view=None):
        offset = self._parse_page(request, view)
        self.total_is_estimate = False
        rows = [] if offset >= MAX_OFFSET else list(queryset[offset : offset + self.per_page + 1])
        items, self.has_next = rows[: self.per_page], len(rows) > self.per_page
        shown = offset + len(items)
        if not self.has_next and (items or offset == 0):
            self.total = shown  # the page reached the end: exact, no count at all
            return items
        if connections[queryset.db].vendor == "postgresql":
            # The planner's estimate first: a large one is the answer (no count at all); a small one is checked
            # by a count that stops after exact_count_limit rows.
            estimate, cap = _planner_rows(queryset), self.exact_count_limit
            counted = estimate if estimate > cap else queryset.order_by().values("pk")[: cap + 1].count()
        else:
            cap = self.fallback_count_limit
            counted = estimate = queryset.order_by().values("pk")[: cap + 1].count()
        if counted <= cap:
            self.total = counted
            return items
        # Keep the estimate consistent with what the page proved: at least the rows shown (+1 when there are
        # more); past the end, at most the rows skipped.
        estimate = max(estimate, cap + 1)
        self.total = max(estimate, shown + int(self.has_next)) if items else min(estimate, offset)
        self.total_is_estimate = True
        return items

    def get_paginated_data(self, items) -> dict:
        data = super().get_paginated_data(items)
        data["has_next"] = self.has_next
        data["total_is_estimate"] = self.total_is_estimate
        return data

    def get_paginated_response_schema(self, schema):
        result = super().get_paginated_response_schema(schema)
        result["properties"]["total"]["description"] = TOTAL_DESCRIPTION
        result["properties"]["total_is_estimate"] = {"type": "boolean"}
        return result


TOTAL_DESCRIPTION = (
    "Matching rows. On a large table this is an estimate (total_is_estimate is true); has_next is always exact."
)
