"""Rows as JSON-safe values, collected up to a data source's row cap and byte cap (both engines).

Values a driver returns become what the API can send as JSON, always the same way:

* ``str``, ``int``, ``bool``, ``None`` and finite ``float`` as they are;
* ``Decimal`` -> ``float`` (a JSON number: charts and sums need numbers; precision beyond about 15
  significant digits is lost), non-finite ``Decimal``/``float`` -> the strings ``"NaN"``, ``"Infinity"``,
  ``"-Infinity"`` (JSON has no such numbers);
* ``datetime``, ``date``, ``time`` -> ISO 8601 strings; ``timedelta`` (PostgreSQL ``interval``) -> seconds as
  a ``float``; ``UUID`` -> its string;
* ``bytes``/``memoryview`` (``bytea``, BLOB) -> standard base64 text;
* lists (arrays) and dicts (``json``/``jsonb``) value by value; anything else -> ``str(value)``.

The byte cap counts the rows as JSON with non-ASCII escaped: an upper bound of what the response carries.
"""

import base64
import datetime
import decimal
import json
import math
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from agent.sql.types import QueryResult

_PLAIN = (str, int, bool, type(None))


def _non_finite(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def json_safe(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is float:
        return value if math.isfinite(value) else _non_finite(value)
    if isinstance(value, decimal.Decimal):
        return float(value) if value.is_finite() else _non_finite(float(value))
    if isinstance(value, datetime.date | datetime.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, bool | int):  # subclasses (IntEnum...)
        return bool(value) if isinstance(value, bool) else int(value)
    if isinstance(value, float):
        return json_safe(float(value))
    return str(value)


def json_size(rows: list) -> int:
    """Bytes of ``rows`` as JSON (ASCII-escaped: never less than the UTF-8 the renderer writes)."""
    return len(json.dumps(rows, separators=(",", ":"), allow_nan=False))


class RowCollector:
    """Takes batches of driver rows until the row cap (it asks for one row more to know there are more)
    or the byte cap is reached; ``result()`` builds the ``QueryResult``."""

    def __init__(self, *, row_cap: int, max_bytes: int, batch_rows: int):
        self.row_cap = max(0, int(row_cap))
        self.max_bytes = max(0, int(max_bytes))
        self.batch_rows = max(1, int(batch_rows))
        self.rows: list[list[Any]] = []
        self.bytes = 2  # the enclosing brackets
        self.truncated = False
        self.notes: list[str] = []
        self.done = False

    def next_batch_size(self) -> int:
        """Rows to ask the driver for next (the cap plus one, so that "more rows" is known)."""
        return max(1, min(self.batch_rows, self.row_cap + 1 - len(self.rows)))

    def add(self, batch: Sequence[Iterable[Any]]) -> None:
        if not batch:
            self.done = True
            return
        converted = [[json_safe(value) for value in row] for row in batch]
        room = self.row_cap - len(self.rows)
        if len(converted) > room:
            converted = converted[:room]
            self._stop(f"Only the first {self.row_cap} rows are shown (the data source's row cap).")
        size = json_size(converted) - 2 + (1 if self.rows and converted else 0)
        if self.bytes + size > self.max_bytes:
            converted = self._fitting(converted)
            self._stop(
                f"Stopped after {len(self.rows) + len(converted)} rows: the result is larger than the data "
                f"source allows ({self.max_bytes} bytes)."
            )
            size = json_size(converted) - 2 + (1 if self.rows and converted else 0) if converted else 0
        self.rows.extend(converted)
        self.bytes += size

    def _fitting(self, converted: list[list[Any]]) -> list[list[Any]]:
        kept, total = [], self.bytes
        for row in converted:
            row_size = json_size(row) + (1 if self.rows or kept else 0)
            if total + row_size > self.max_bytes:
                break
            kept.append(row)
            total += row_size
        return kept

    def _stop(self, note: str) -> None:
        self.truncated = self.done = True
        if note not in self.notes:
            self.notes.append(note)

    def result(self, *, columns: list[str], elapsed_ms: float) -> QueryResult:
        return QueryResult(
            columns=columns,
            rows=self.rows,
            row_count=len(self.rows),
            truncated=self.truncated,
            elapsed_ms=round(elapsed_ms, 3),
            notes=self.notes,
        )
