"""Charts (``agent.engine.charts``): chosen by rules from the result's shape, plain JSON Vega-Lite, never code;
in a run, the chart event follows the table when the result suits one."""

import json

import pytest

from agent.engine.charts import MAX_CATEGORIES, MAX_ROWS, SCHEMA, chart_for

from ..chat.conftest import ask
from .script import COUNT_CUSTOMERS, say, tool_call, types

# Keys that would make a spec compute, fetch or run something: none may appear anywhere in ours.
ACTIVE_KEYS = {"url", "expr", "signal", "signals", "transform", "calculate", "filter", "params", "datasets", "loader"}


def walk(value, path="spec"):
    """Every (path, key, leaf) of a JSON value; fails on anything JSON cannot hold."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), path
            yield path, key, item
            yield from walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from walk(item, f"{path}[{i}]")
    else:
        assert value is None or isinstance(value, str | int | float | bool), (path, type(value))


def assert_plain(spec):
    assert json.loads(json.dumps(spec)) == spec  # plain JSON: no functions, no objects
    keys = {key for _, key, _ in walk(spec)}
    assert not keys & ACTIVE_KEYS, keys & ACTIVE_KEYS
    assert spec["$schema"] == SCHEMA
    assert set(spec["data"]) == {"values"}  # inline rows only
    for row in spec["data"]["values"]:
        assert set(row) == {"x", "y"}


def test_a_category_and_a_measure_make_bars():
    spec = chart_for(["status", "orders"], [["shipped", 120], ["pending", 30], ["cancelled", 5]])
    assert_plain(spec)
    assert spec["mark"]["type"] == "bar"
    assert spec["encoding"]["x"] == {"field": "x", "type": "nominal", "title": "status", "sort": "-y"}
    assert spec["encoding"]["y"] == {"field": "y", "type": "quantitative", "title": "orders"}
    assert spec["data"]["values"][0] == {"x": "shipped", "y": 120}


@pytest.mark.parametrize("day", ["2024-03", "2024-03-01", "2024-03-01 10:00:00", "2024-03-01T10:00:00Z"])
def test_a_date_and_a_measure_make_a_line(day):
    spec = chart_for(["month", "revenue"], [[day, 10.5], [day, 12.0]])
    assert_plain(spec)
    assert spec["mark"]["type"] == "line"
    assert spec["encoding"]["x"]["type"] == "temporal"


def test_a_date_wins_over_a_category():
    spec = chart_for(["country", "month", "total"], [["NO", "2024-01", 3], ["SE", "2024-02", 4]])
    assert spec["mark"]["type"] == "line" and spec["encoding"]["x"]["title"] == "month"


def test_nulls_do_not_hide_the_shape():
    spec = chart_for(["status", "n"], [["a", 1], [None, 2], ["b", None]])
    assert spec["mark"]["type"] == "bar"


@pytest.mark.parametrize(
    "columns, rows",
    [
        (["n"], [[5]]),  # one column
        (["name", "email"], [["a", "a@x"], ["b", "b@x"]]),  # only text
        (["year", "total"], [[2023, 5.0], [2024, 6.0]]),  # only numbers
        (["name", "customer_id"], [["a", 1], ["b", 2]]),  # the number is an identifier
        (["name", "id"], [["a", 1], ["b", 2]]),
        (["status", "n"], []),  # no rows
        (["status", "flag"], [["a", True], ["b", False]]),  # a bool is no measure
        (["status", "n"], [[f"s{i}", i] for i in range(MAX_CATEGORIES + 1)]),  # too many bars
        (["day", "n"], [[f"2024-01-{1 + i % 28:02d}", i] for i in range(MAX_ROWS + 1)]),  # too many rows
        (["mixed", "n"], [["a", 1], [2, 2]]),  # a column of mixed kinds
    ],
    ids=[
        "one-column",
        "text-only",
        "numbers-only",
        "id-measure",
        "bare-id",
        "empty",
        "bool",
        "too-many-categories",
        "too-many-rows",
        "mixed",
    ],
)
def test_other_shapes_get_no_chart(columns, rows):
    assert chart_for(columns, rows) is None


def test_an_identifier_is_skipped_for_a_real_measure():
    spec = chart_for(["customer_id", "country", "spent"], [[1, "NO", 10.0], [2, "SE", 20.0]])
    assert spec["encoding"]["y"]["title"] == "spent" and spec["encoding"]["x"]["title"] == "country"


def test_column_names_are_titles_never_fields():
    """A column alias is the model's text: a Vega-Lite field would read dots and brackets as paths."""
    name = 'x"].constructor("alert(1)")()//'
    spec = chart_for([name, "a.b[0]"], [["one", 1], ["two", 2]])
    assert_plain(spec)
    assert spec["encoding"]["x"]["field"] == "x" and spec["encoding"]["y"]["field"] == "y"
    assert spec["encoding"]["x"]["title"] == name  # shown as text only


# --- in a run
pytestmark_db = pytest.mark.django_db(transaction=True)


@pytestmark_db
async def test_the_chart_follows_the_table_when_it_suits(demo_source, openai_llm, user):
    tool_call(openai_llm, "SELECT status, count(*) AS orders FROM orders GROUP BY status")
    say(openai_llm, "Most orders were delivered.")
    answer = await ask(user, "How many orders per status?")
    assert types(answer) == ["tool_start", "sql", "table", "chart", "tool_end", "text"]
    table, chart = answer["events"][2], answer["events"][3]
    assert_plain(chart["spec"])
    assert chart["spec"]["mark"]["type"] == "bar"
    assert {v["x"] for v in chart["spec"]["data"]["values"]} == {row[0] for row in table["rows"]}
    assert {"pending", "shipped", "delivered", "cancelled"} <= {row[0] for row in table["rows"]}


@pytestmark_db
async def test_a_monthly_series_is_a_line(demo_source, openai_llm, user):
    tool_call(
        openai_llm,
        "SELECT strftime('%Y-%m', ordered_at) AS month, sum(total) AS revenue FROM orders "
        "GROUP BY month ORDER BY month",
    )
    say(openai_llm, "Revenue grew.")
    answer = await ask(user, "Revenue per month?")
    chart = next(e for e in answer["events"] if e["type"] == "chart")
    assert chart["spec"]["mark"]["type"] == "line"


@pytestmark_db
async def test_a_single_number_has_no_chart(demo_source, openai_llm, user):
    tool_call(openai_llm, COUNT_CUSTOMERS)
    say(openai_llm, "Many.")
    answer = await ask(user, "How many customers are there?")
    assert "chart" not in types(answer)
