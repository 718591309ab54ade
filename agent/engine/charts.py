"""A chart for a query result, chosen by rules from the result's shape: a declarative Vega-Lite spec, never code.

* a date/time column and a measure → a line over time (``temporal`` x);
* a category column and a measure → bars (at most ``MAX_CATEGORIES`` distinct categories), sorted by the measure;
* anything else (one column, only text, only numbers, too many rows) → no chart.

A measure is a numeric column (bool is not a number here); a date is an ISO-8601 string as the runners render
dates. The spec embeds the rows it draws (bounded by ``MAX_ROWS``) so the client needs nothing else.
"""

import re
from typing import Any

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
MAX_ROWS = 500
MAX_CATEGORIES = 50
_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")

NUMBER, DATE, CATEGORY, OTHER = "number", "date", "category", "other"


def _kind(values: list[Any]) -> str:
    present = [v for v in values if v is not None]
    if not present:
        return OTHER
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return NUMBER
    if all(isinstance(v, str) for v in present):
        return DATE if all(_DATE.match(v) for v in present) else CATEGORY
    return OTHER


def column_kinds(columns: list[str], rows: list[list[Any]]) -> list[str]:
    return [_kind([row[i] for row in rows if i < len(row)]) for i in range(len(columns))]


def chart_for(columns: list[str], rows: list[list[Any]]) -> dict[str, Any] | None:
    """The Vega-Lite spec that suits ``columns``/``rows``, or ``None``."""
    if len(columns) < 2 or not rows or len(rows) > MAX_ROWS or len(set(columns)) != len(columns):
        return None
    kinds = column_kinds(columns, rows)
    measures = [i for i, k in enumerate(kinds) if k == NUMBER]
    dates = [i for i, k in enumerate(kinds) if k == DATE]
    categories = [i for i, k in enumerate(kinds) if k == CATEGORY]
    if not measures:
        return None
    y = measures[0]
    if dates:
        x, mark, x_type = dates[0], "line", "temporal"
    elif categories:
        x, mark, x_type = categories[0], "bar", "nominal"
        if len({row[x] for row in rows}) > MAX_CATEGORIES:
            return None
    else:
        return None
    values = [{columns[x]: row[x], columns[y]: row[y]} for row in rows]
    x_encoding: dict[str, Any] = {"field": columns[x], "type": x_type, "title": columns[x]}
    if mark == "bar":
        x_encoding["sort"] = "-y"
    return {
        "$schema": SCHEMA,
        "description": f"{columns[y]} by {columns[x]}",
        "data": {"values": values},
        "mark": {"type": mark, "tooltip": True, **({"point": True} if mark == "line" else {})},
        "encoding": {
            "x": x_encoding,
            "y": {"field": columns[y], "type": "quantitative", "title": columns[y]},
        },
    }
