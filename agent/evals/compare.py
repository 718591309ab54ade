"""Is the agent's result set the reference's? (issue 17: execution accuracy)

``results_match(reference, candidate, ordered=...)`` compares two results the way a person would:

* column names do not matter, nor column order: each reference column is paired with a candidate column holding
  the same values (a candidate may carry extra columns, e.g. an id beside a name);
* row order matters only when the reference orders (``reference_orders(sql)``: a top-level ``ORDER BY``);
  otherwise rows compare as a multiset (duplicates count);
* numbers compare after rounding to ``SIGNIFICANT`` significant digits (``3`` equals ``3.0``; ``0.1 + 0.2`` equals
  ``0.3``); ``Decimal`` is a number; text compares exactly; ``None`` equals only ``None``.

The answer says why it did not match, in plain words, for the run's per-case report.
"""

import math
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlglot
from sqlglot import expressions as exp

SIGNIFICANT = 6


@dataclass(frozen=True)
class Match:
    matched: bool
    reason: str = ""


def normalise(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, int | float):
        number = float(value)
        if math.isnan(number) or math.isinf(number):
            return str(number)
        if number == 0:
            return 0.0
        digits = SIGNIFICANT - math.floor(math.log10(abs(number))) - 1
        return round(number, digits) + 0.0
    return value


def reference_orders(sql: str, dialect: str | None = None) -> bool:
    """Whether the reference statement orders its rows (a top-level ``ORDER BY``)."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.ParseError:
        return False
    return tree.args.get("order") is not None if isinstance(tree, exp.Query) else False


def _columns(rows: list[list[Any]], width: int) -> list[list[Any]]:
    return [[row[i] if i < len(row) else None for row in rows] for i in range(width)]


def _pairing(reference: list[list[Any]], candidate: list[list[Any]]) -> list[int] | None:
    """For each reference column, a distinct candidate column with the same multiset of values (or ``None``)."""
    wanted = [Counter(map(repr, col)) for col in reference]
    offered = [Counter(map(repr, col)) for col in candidate]
    used: set[int] = set()
    pairing = []
    for i, values in enumerate(wanted):
        # prefer the same position, then the first free one that fits
        order = [i, *(j for j in range(len(offered)) if j != i)] if i < len(offered) else range(len(offered))
        found = next((j for j in order if j not in used and offered[j] == values), None)
        if found is None:
            return None
        used.add(found)
        pairing.append(found)
    return pairing


def results_match(
    reference: tuple[list[str], list[list[Any]]], candidate: tuple[list[str], list[list[Any]]], *, ordered: bool
) -> Match:
    ref_columns, ref_rows = reference
    cand_columns, cand_rows = candidate
    if len(ref_rows) != len(cand_rows):
        return Match(False, f"{len(cand_rows)} row(s) instead of {len(ref_rows)}")
    if len(cand_columns) < len(ref_columns):
        return Match(False, f"{len(cand_columns)} column(s) instead of {len(ref_columns)}")
    ref = [[normalise(v) for v in row] for row in ref_rows]
    cand = [[normalise(v) for v in row] for row in cand_rows]
    pairing = _pairing(_columns(ref, len(ref_columns)), _columns(cand, len(cand_columns)))
    if pairing is None:
        return Match(False, "the values differ (no column of the answer holds a reference column's values)")
    projected = [tuple(row[j] for j in pairing) for row in cand]
    expected = [tuple(row[: len(ref_columns)]) for row in ref]
    if ordered:
        if projected != expected:
            return Match(False, "the rows are right but not in the reference's order")
        return Match(True)
    if Counter(map(repr, projected)) != Counter(map(repr, expected)):
        return Match(False, "the values differ row by row")
    return Match(True)
