"""``page``/``per_page`` pagination (contract §2): ``{<plural>: [...], total, page, per_page, has_next}``.

Out-of-range values answer 422 VALIDATION_ERROR; a page past the end is an empty list.
"""

from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from majed_vanna.exceptions import ValidationFailedError

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100


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


class EnvelopePagination(BasePagination):
    page_query_param = "page"
    page_size_query_param = "per_page"

    def paginate_queryset(self, queryset, request, view=None):
        page, page_errors = _parse(request, "page", 1, 1, None)
        per_page, per_page_errors = _parse(request, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
        errors = {k: v for k, v in (("page", page_errors), ("per_page", per_page_errors)) if v}
        if errors:
            raise ValidationFailedError(details=errors)
        self.results_key = getattr(view, "results_key", "results")
        self.page, self.per_page = page, per_page
        self.total = (
            queryset.count() if hasattr(queryset, "count") and not isinstance(queryset, list) else len(queryset)
        )
        offset = (page - 1) * per_page
        if offset >= self.total:
            # Past the end: no query, so an offset too large for the database's integers is never sent.
            return []
        return list(queryset[offset : offset + per_page])

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
        return [
            {
                "name": "page",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "default": 1},
            },
            {
                "name": "per_page",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE},
            },
        ]
