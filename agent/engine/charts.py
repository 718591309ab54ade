"""A chart for a query result, chosen by rules from the result's shape: a declarative Vega-Lite spec, never code.

* a date/time column and a measure → a line over time (``temporal`` x);
* a category column and a measure → bars (at most ``MAX_CATEGORIES`` distinct categories), sorted by the measure;
* anything else (one column, only text, only numbers, too many rows or categories) → no chart.

A measure is a numeric column (bool is not a number here) whose name is not an identifier's (``id``,
``customer_id``: a sum of ids is no measure); a date is an ISO-8601 string as the runners render dates.

The spec is plain JSON data: no expressions, no transforms, no external data URL. It embeds the rows it draws
(bounded by ``MAX_ROWS``) under the fixed field names ``x`` and ``y``; the result's column names appear only
as titles (text), never as field names, which Vega-Lite would read as paths (``a.b``, ``a[0]``).
"""

import re
from typing import Any

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
MAX_ROWS = 500
MAX_CATEGORIES = 50
MAX_TITLE_CHARS = 100
_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")
_IDENTIFIER = re.compile(r"(^|_)(id|pk|key)$", re.IGNORECASE)

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


def _title(name: str) -> str:
    text = str(name)
    return text if len(text) <= MAX_TITLE_CHARS else text[: MAX_TITLE_CHARS - 1] + "…"


def chart_for(columns: list[str], rows: list[list[Any]]) -> dict[str, Any] | None:
    """The Vega-Lite spec that suits ``columns``/``rows``, or ``None``."""
    if len(columns) < 2 or not rows or len(rows) > MAX_ROWS:
        return None
    kinds = column_kinds(columns, rows)
    measures = [i for i, k in enumerate(kinds) if k == NUMBER and not _IDENTIFIER.search(str(columns[i]))]
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
    x_title, y_title = _title(columns[x]), _title(columns[y])
    x_encoding: dict[str, Any] = {"field": "x", "type": x_type, "title": x_title}
    if mark == "bar":
        x_encoding["sort"] = "-y"
    return {
        "$schema": SCHEMA,
        "description": f"{y_title} by {x_title}",
        "data": {"values": [{"x": row[x], "y": row[y]} for row in rows]},
        "mark": {"type": mark, "tooltip": True, **({"point": True} if mark == "line" else {})},
        "encoding": {
            "x": x_encoding,
            "y": {"field": "y", "type": "quantitative", "title": y_title},
        },
    }
