"""A wide schema (400 tables) for the prompt's tests: a few tables that matter for the questions below, hidden
among hundreds of look-alikes with the usual generic columns (``id``, ``name``, ``status``, ``created_at``)."""

import sqlite3
from pathlib import Path

FILLER_DOMAINS = ("audit", "tmp", "etl", "log", "cache", "stage", "legacy", "backup", "metric", "queue")
FILLER_THINGS = ("event", "batch", "job", "snapshot", "record", "entry", "import", "export", "sync", "task")
GENERIC = "id INTEGER PRIMARY KEY, name TEXT, status TEXT, created_at TEXT, updated_at TEXT"

# The tables that matter: (name, columns DDL)
CORE = [
    ("regions", "id INTEGER PRIMARY KEY, name TEXT, country TEXT"),
    (
        "customer_accounts",
        "id INTEGER PRIMARY KEY, name TEXT, region_id INTEGER REFERENCES regions(id), created_at TEXT",
    ),
    (
        "sales_invoices",
        "id INTEGER PRIMARY KEY, customer_account_id INTEGER REFERENCES customer_accounts(id), "
        "amount REAL, issued_at TEXT, status TEXT",
    ),
    ("product_categories", "id INTEGER PRIMARY KEY, name TEXT"),
    (
        "catalog_items",
        "id INTEGER PRIMARY KEY, title TEXT, category_id INTEGER REFERENCES product_categories(id), unit_price REAL",
    ),
    (
        "invoice_lines",
        "id INTEGER PRIMARY KEY, invoice_id INTEGER REFERENCES sales_invoices(id), "
        "item_id INTEGER REFERENCES catalog_items(id), quantity INTEGER",
    ),
    ("warehouses", "id INTEGER PRIMARY KEY, name TEXT, city TEXT"),
    (
        "stock_levels",
        "id INTEGER PRIMARY KEY, warehouse_id INTEGER REFERENCES warehouses(id), "
        "item_id INTEGER REFERENCES catalog_items(id), qty_on_hand INTEGER",
    ),
]


def filler_names(count: int) -> list[str]:
    names = []
    for i in range(count):
        domain, thing = FILLER_DOMAINS[i % len(FILLER_DOMAINS)], FILLER_THINGS[(i // 10) % len(FILLER_THINGS)]
        names.append(f"{domain}_{thing}_{i:03d}")
    return names


def wide_tables(total: int = 400) -> list[tuple[str, str]]:
    return CORE + [(name, GENERIC) for name in filler_names(total - len(CORE))]


def wide_snapshot(total: int = 400) -> dict:
    """The schema as ``agent.sql.introspect`` describes it, without a database."""
    tables = []
    for name, ddl in wide_tables(total):
        columns, keys = [], []
        for part in ddl.split(", "):
            column, kind, *rest = part.split(" ")
            columns.append({"name": column, "type": kind, "nullable": True, "default": None, "primary_key": False})
            if "REFERENCES" in rest:
                target = rest[rest.index("REFERENCES") + 1]
                table, ref = target.rstrip(")").split("(")
                keys.append({"columns": [column], "references": {"schema": "main", "table": table, "columns": [ref]}})
        tables.append({"schema": "main", "name": name, "kind": "table", "columns": columns, "foreign_keys": keys})
    return {"engine": "sqlite", "tables": tables}


def wide_sqlite(path: Path, total: int = 400) -> Path:
    with sqlite3.connect(path) as conn:
        for name, ddl in wide_tables(total):
            conn.execute(f"CREATE TABLE {name} ({ddl})")
        conn.execute("INSERT INTO regions VALUES (1, 'North', 'NO'), (2, 'South', 'ZA')")
        conn.execute("INSERT INTO customer_accounts VALUES (1, 'Acme', 1, '2024-01-01'), (2, 'Beta', 2, '2024-02-01')")
        conn.execute(
            "INSERT INTO sales_invoices VALUES (1, 1, 100.0, '2024-03-01', 'paid'), (2, 2, 50.0, '2024-03-02', 'paid')"
        )
    conn.close()
    return path
