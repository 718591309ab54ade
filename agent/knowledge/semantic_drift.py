"""Pure functions of the semantic layer's schema scan: the live schema in the layer's terms (tables, columns,
foreign keys as relationships), what changed in a column, and which columns are worth sampling.

No database and no settings here: ``agent.services.semantic_sync`` feeds these with the introspected schema
(``agent.sql.introspect``'s shape) and the stored entries.
"""

import re
from dataclasses import dataclass, field
from typing import Any

DEFAULT_SCHEMAS = ("", "public", "main")
# Text-like types only: numbers, dates and blobs are rarely categories, and a scan of them costs as much.
_SAMPLED_TYPE = re.compile(r"char|text|string|clob|bool|enum|citext|name", re.IGNORECASE)
_SECRET_NAME = re.compile(r"pass(word|wd)?|secret|token|hash|salt|api_?key|credential", re.IGNORECASE)
DRIFT_FLAG = "Schema drift: "  # the prefix of flags the scan sets, and the only ones it clears


def qualified(schema: str | None, name: str) -> str:
    """A relation's name as the gate and the layer name it: bare in the default schema, else ``schema.name``."""
    return name if (schema or "") in DEFAULT_SCHEMAS else f"{schema}.{name}"


@dataclass
class LiveColumn:
    name: str
    data_type: str
    nullable: bool
    primary_key: bool


@dataclass
class LiveTable:
    name: str  # qualified
    schema: str
    bare: str
    kind: str
    row_estimate: int | None
    columns: dict[str, LiveColumn] = field(default_factory=dict)  # lower-cased name -> column
    foreign_keys: list[dict] = field(default_factory=list)


def live_schema(snapshot: dict | None) -> dict[str, LiveTable]:
    """The introspected schema by lower-cased qualified table name."""
    tables: dict[str, LiveTable] = {}
    for raw in (snapshot or {}).get("tables", []):
        name = qualified(raw.get("schema"), raw["name"])
        table = LiveTable(
            name=name,
            schema=raw.get("schema") or "",
            bare=raw["name"],
            kind=raw.get("kind") or "table",
            row_estimate=raw.get("row_estimate"),
            foreign_keys=list(raw.get("foreign_keys") or []),
        )
        for column in raw.get("columns", []):
            table.columns[column["name"].lower()] = LiveColumn(
                name=column["name"],
                data_type=column.get("type") or "",
                nullable=bool(column.get("nullable", True)),
                primary_key=bool(column.get("primary_key", False)),
            )
        tables[name.lower()] = table
    return tables


def relationship_key(from_table: str, from_columns: list[str], to_table: str, to_columns: list[str]) -> str:
    return f"{from_table}({', '.join(from_columns)})->{to_table}({', '.join(to_columns)})"


def live_relationships(tables: dict[str, LiveTable]) -> dict[str, dict[str, Any]]:
    """The foreign keys of the live schema as relationships, by lower-cased key."""
    found = {}
    for table in tables.values():
        for fk in table.foreign_keys:
            ref = fk.get("references") or {}
            to_table = qualified(ref.get("schema"), ref.get("table") or "")
            item = {
                "from_table": table.name,
                "from_columns": list(fk.get("columns") or []),
                "to_table": to_table,
                "to_columns": list(ref.get("columns") or []),
            }
            item["key"] = relationship_key(**item)
            found[item["key"].lower()] = item
    return found


def column_changes(stored: dict[str, Any], live: LiveColumn) -> list[str]:
    """What differs between a stored column (``data_type``, ``nullable``, ``primary_key``) and the live one."""
    changes = []
    if (stored["data_type"] or "").lower() != (live.data_type or "").lower():
        changes.append(f"type {stored['data_type'] or '(none)'} -> {live.data_type or '(none)'}")
    if stored["nullable"] != live.nullable:
        changes.append("now nullable" if live.nullable else "now NOT NULL")
    if stored["primary_key"] != live.primary_key:
        changes.append("now part of the primary key" if live.primary_key else "no longer in the primary key")
    return changes


def sampleable(table: LiveTable, column: LiveColumn) -> bool:
    """Columns whose distinct values are worth recording: text-like (or untyped), not a key, not a secret."""
    if table.kind != "table" or column.primary_key or _SECRET_NAME.search(column.name):
        return False
    if any(column.name in (fk.get("columns") or []) for fk in table.foreign_keys):
        return False
    return not column.data_type or bool(_SAMPLED_TYPE.search(column.data_type))
