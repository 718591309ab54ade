"""Execution-accuracy comparison: what counts as the same answer."""

from decimal import Decimal

import pytest

from agent.evals.compare import reference_orders, results_match


def match(ref, cand, ordered=False):
    return results_match(ref, cand, ordered=ordered)


def test_same_rows_other_column_names_match():
    assert match((["n"], [[3]]), (["count(*)"], [[3]])).matched


def test_rows_in_another_order_match_unless_the_reference_orders():
    ref = (["name", "total"], [["a", 1], ["b", 2]])
    cand = (["name", "total"], [["b", 2], ["a", 1]])
    assert match(ref, cand).matched
    result = match(ref, cand, ordered=True)
    assert not result.matched and "order" in result.reason


def test_columns_in_another_order_and_extra_columns_match():
    ref = (["name", "total"], [["a", 1.5], ["b", 2.25]])
    cand = (["id", "total_sales", "customer"], [[7, 1.5, "a"], [8, 2.25, "b"]])
    assert match(ref, cand).matched


def test_float_rounding_and_decimal_and_int_are_tolerated():
    ref = (["x"], [[0.3], [3]])
    cand = (["y"], [[0.1 + 0.2], [Decimal("3.000")]])
    assert match(ref, cand).matched


def test_different_values_do_not_match_and_say_why():
    result = match((["n"], [[3]]), (["n"], [[4]]))
    assert not result.matched and result.reason


def test_row_count_and_missing_columns_are_reported():
    assert "row" in match((["n"], [[1], [2]]), (["n"], [[1]])).reason
    assert "column" in match((["a", "b"], [[1, 2]]), (["a"], [[1]])).reason


def test_duplicates_count():
    assert not match((["n"], [[1], [1]]), (["n"], [[1], [2]])).matched


def test_a_wrong_pairing_is_not_accepted_by_mixing_columns():
    # each column's values exist in the answer, but not together on the same rows
    ref = (["a", "b"], [[1, "x"], [2, "y"]])
    cand = (["a", "b"], [[1, "y"], [2, "x"]])
    assert not match(ref, cand).matched


@pytest.mark.parametrize(
    ("sql", "orders"),
    [
        ("SELECT name FROM customers ORDER BY name", True),
        ("SELECT name FROM customers", False),
        ("SELECT * FROM (SELECT name FROM customers ORDER BY name) t", False),
        ("not sql at all (", False),
    ],
)
def test_reference_orders(sql, orders):
    assert reference_orders(sql) is orders
