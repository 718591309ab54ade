"""The demo data: a small shop's customers, products, employees, orders and order items (contract §5 "Agent").

Deterministic (one seeded ``random.Random``: the same rows on every machine and every run) and shaped like
real sales: two years of orders (2023-2024) growing into the second year, peaks in November and December and
on weekdays, a few big customers placing a large share of the orders (rank-weighted), bestselling products,
recent orders still pending or shipped, some cancelled, some NULLs (customers without an email, web orders
without a salesperson) and names with accents, apostrophes and quotes.

``build_demo_sqlite(path)`` writes it as a SQLite file (``manage.py seed_demo``: ``$MV_DATA_DIR/demo.sqlite3``);
``load_demo_postgresql(url)`` loads the same rows into a PostgreSQL database (``manage.py load_demo_data``).
``rows_digest`` is a digest of the rows in a form both engines give back alike, so the two can be compared.
"""

import functools
import hashlib
import os
import random
import sqlite3
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

SEED = 14
START, END = date(2023, 1, 1), date(2024, 12, 31)
N_CUSTOMERS, N_EMPLOYEES, N_ORDERS = 800, 30, 6000
STATUSES = ("pending", "shipped", "delivered", "cancelled")
CENT = Decimal("0.01")
INT, TEXT, MONEY, TIMESTAMP, DAY = "int", "text", "money", "timestamp", "date"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    sqlite: str
    postgresql: str


def _col(name: str, kind: str, constraint: str = "") -> Column:
    sqlite_types = {INT: "INTEGER", TEXT: "TEXT", MONEY: "NUMERIC", TIMESTAMP: "TIMESTAMP", DAY: "DATE"}
    pg_types = {INT: "integer", TEXT: "text", MONEY: "numeric(12,2)", TIMESTAMP: "timestamp", DAY: "date"}
    return Column(name, kind, f"{sqlite_types[kind]} {constraint}".strip(), f"{pg_types[kind]} {constraint}".strip())


STATUS_CHECK = "NOT NULL CHECK (status IN ('pending', 'shipped', 'delivered', 'cancelled'))"
TABLES: dict[str, tuple[Column, ...]] = {
    "customers": (
        _col("id", INT, "PRIMARY KEY"),
        _col("name", TEXT, "NOT NULL"),
        _col("email", TEXT),
        _col("country", TEXT, "NOT NULL"),
        _col("created_at", TIMESTAMP, "NOT NULL"),
    ),
    "products": (
        _col("id", INT, "PRIMARY KEY"),
        _col("name", TEXT, "NOT NULL"),
        _col("category", TEXT, "NOT NULL"),
        _col("price", MONEY, "NOT NULL"),
    ),
    "employees": (
        _col("id", INT, "PRIMARY KEY"),
        _col("name", TEXT, "NOT NULL"),
        _col("department", TEXT, "NOT NULL"),
        _col("salary", MONEY, "NOT NULL"),
        _col("hired_at", DAY, "NOT NULL"),
    ),
    "orders": (
        _col("id", INT, "PRIMARY KEY"),
        _col("customer_id", INT, "NOT NULL REFERENCES customers (id)"),
        _col("employee_id", INT, "REFERENCES employees (id)"),
        _col("status", TEXT, STATUS_CHECK),
        _col("total", MONEY, "NOT NULL"),
        _col("ordered_at", TIMESTAMP, "NOT NULL"),
    ),
    "order_items": (
        _col("id", INT, "PRIMARY KEY"),
        _col("order_id", INT, "NOT NULL REFERENCES orders (id)"),
        _col("product_id", INT, "NOT NULL REFERENCES products (id)"),
        _col("quantity", INT, "NOT NULL"),
        _col("price", MONEY, "NOT NULL"),
    ),
}
INDEXES = (
    ("orders_customer_id", "orders", "customer_id"),
    ("orders_employee_id", "orders", "employee_id"),
    ("orders_ordered_at", "orders", "ordered_at"),
    ("order_items_order_id", "order_items", "order_id"),
    ("order_items_product_id", "order_items", "product_id"),
)

FIRST_NAMES = (
    "James", "Mary", "Ahmed", "Fatima", "José", "Zoë", "François", "Chloé", "Łukasz", "Søren", "Ana", "Mohammed",
    "Noura", "Hiroshi", "Yuki", "Olivia", "Liam", "Emma", "Noah", "Sofía", "Mateo", "Björn", "Ingrid", "Raúl",
    "Aisha", "Omar", "Priya", "Arjun", "Chen", "Mei", "Dmitri", "Anya", "Seán", "Siobhán", "Renée", "Élodie",
    "Jürgen", "Kåre", "Thandiwe", "Kwame", "Layla", "Yusuf", "Hannah", "David", "Sarah", "Michael", "Laura", "Peter",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "O'Brien", "D'Angelo", "Müller", "Nuñez", "García", "Al-Rashid", "Al Saud", "Kowalski",
    "Nakamura", "Ødegaard", "Dubois", "Lefèvre", "van der Berg", "McDonald", "O'Connor", "Brown", "Wilson", "Chen",
    "Wang", "Singh", "Patel", "Kim", "Rossi", "Bianchi", "Jensen", "Andersson", "Ivanov", "Nováková", "Haddad",
    "Mensah", "Okafor", "Silva", "Santos", "Fernández", "Schäfer", "Le Blanc", "St. John", "Taylor", "Clark",
)  # fmt: skip
COUNTRIES = (
    ("United States", 30), ("United Kingdom", 12), ("Germany", 10), ("Saudi Arabia", 9), ("France", 8),
    ("Canada", 6), ("United Arab Emirates", 5), ("Spain", 4), ("Japan", 4), ("India", 4), ("Brazil", 3),
    ("Italy", 2), ("Netherlands", 2), ("Sweden", 1),
)  # fmt: skip
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com")
PRODUCTS = {
    "Electronics": (
        ('27" 4K Monitor', 329), ("Wireless Mouse", 24), ("Mechanical Keyboard", 89), ("USB-C Hub", 39),
        ("Noise-Cancelling Headphones", 249), ("Smartphone Charger 65W", 35), ("Laptop Stand", 45),
        ("Bluetooth Speaker", 79), ("Webcam HD", 59),
    ),
    "Books": (
        ("The Data Warehouse Toolkit", 52), ("Children's Atlas", 18), ("Cooking with Olive Oil", 27),
        ("SQL for Smarties", 44), ("Les Misérables (Paperback)", 14), ("A Brief History of Time", 19),
        ("Arabic Calligraphy Workbook", 23),
    ),
    "Home": (
        ('12" Cast-Iron Skillet', 38), ("Café Crème Espresso Cups (Set of 4)", 29), ("Linen Duvet Cover", 95),
        ("Ceramic Vase", 32), ("Scented Candle \u2013 Cedar", 16), ("Bath Towel Set", 49), ("Desk Lamp", 42),
        ("Kitchen Scale", 22),
    ),
    "Garden": (
        ("Garden Hose 25m", 36), ("Pruning Shears", 21), ("Terracotta Pot (Large)", 27), ("Bird Feeder", 19),
        ("Seed Starter Kit", 15),
    ),
    "Toys": (
        ("Building Blocks (500 pcs)", 34), ("Pâte à modeler Set", 12), ("Remote-Control Car", 55),
        ("Plush Bear", 17), ("Wooden Puzzle", 14), ("Board Game: Settlers", 44),
    ),
    "Clothing": (
        ("Wool Scarf", 29), ("Rain Jacket", 89), ("Running Socks (3-pack)", 15), ("Denim Jeans", 59),
        ("Cotton T-Shirt", 19), ("Leather Gloves", 39), ("Winter Boots", 119),
    ),
    "Sports": (
        ("Yoga Mat", 28), ("Dumbbell Set 20kg", 79), ("Tennis Racket", 99), ("Football", 25),
        ("Cycling Helmet", 65), ("Water Bottle 1L", 12),
    ),
    "Grocery": (
        ("Arabica Coffee Beans 1kg", 24), ("Medjool Dates 1kg", 18), ("Extra Virgin Olive Oil 1L", 15),
        ("Green Tea (100 bags)", 9), ("Dark Chocolate 85%", 4), ("Saffron 2g", 13), ("Manuka Honey", 32),
    ),
}  # fmt: skip
DEPARTMENTS = (("Sales", 12, 52_000), ("Support", 6, 41_000), ("Marketing", 4, 58_000), ("Engineering", 5, 82_000),
               ("Finance", 3, 67_000))  # fmt: skip
MONTH_WEIGHTS = (0.80, 0.75, 0.90, 0.95, 1.00, 0.95, 0.85, 0.85, 1.00, 1.05, 1.55, 1.85)


def _money(value) -> Decimal:
    return Decimal(value).quantize(CENT)


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text.replace("ø", "o").replace("Ø", "O").replace("ł", "l").replace("Ł", "L"))
    return "".join(char for char in plain if char.isascii() and (char.isalnum() or char in ".-")).lower()


def _products(rng: random.Random) -> list[tuple]:
    rows = []
    for category, items in PRODUCTS.items():
        for name, base in items:
            cents = Decimal(rng.choice(("0.99", "0.49", "0.00", "0.95")))
            rows.append((len(rows) + 1, name, category, _money(Decimal(base) - 1 + cents if cents else base)))
    return rows


def _employees(rng: random.Random) -> list[tuple]:
    rows = []
    for department, count, salary in DEPARTMENTS:
        for _ in range(count):
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            pay = _money(round(salary * rng.uniform(0.8, 1.45), -2))
            hired = date(2014, 1, 1) + timedelta(days=rng.randrange((date(2024, 6, 30) - date(2014, 1, 1)).days))
            rows.append((len(rows) + 1, name, department, pay, hired))
    return rows


def _order_days(rng: random.Random, count: int) -> list[date]:
    days = [START + timedelta(days=n) for n in range((END - START).days + 1)]
    weights = [
        MONTH_WEIGHTS[day.month - 1] * (0.7 if day.weekday() >= 5 else 1.0) * (1.3 if day.year == 2024 else 1.0)
        for day in days
    ]
    return sorted(rng.choices(days, weights=weights, k=count))


def _status(rng: random.Random, day: date) -> str:
    age = (END - day).days
    if age <= 3:
        return rng.choices(STATUSES, weights=(60, 35, 0, 5))[0]
    if age <= 14:
        return rng.choices(STATUSES, weights=(5, 50, 40, 5))[0]
    return rng.choices(STATUSES, weights=(0, 1, 93, 6))[0]


@functools.lru_cache(maxsize=1)
def demo_rows() -> dict[str, tuple[tuple, ...]]:
    """Every table's rows (ids from 1), the same on every call and every machine."""
    rng = random.Random(SEED)  # noqa: S311 - reproducible demo rows, not a secret
    products = _products(rng)
    employees = _employees(rng)
    salespeople = [row[0] for row in employees if row[2] == "Sales"]
    countries, country_weights = zip(*COUNTRIES, strict=True)

    # A few big customers: order weight falls with rank (the biggest places ~7% of all orders, ten ~30%).
    ranks = list(range(1, N_CUSTOMERS + 1))
    rng.shuffle(ranks)
    customer_weights = [rank**-0.8 for rank in ranks]
    account_manager = {cid: rng.choice(salespeople) for cid in range(1, N_CUSTOMERS + 1)}
    product_weights = [rng.paretovariate(1.3) for _ in products]  # a few bestsellers

    orders, items, first_order = [], [], {}
    for order_id, day in enumerate(_order_days(rng, N_ORDERS), start=1):
        customer = rng.choices(range(1, N_CUSTOMERS + 1), weights=customer_weights)[0]
        big = ranks[customer - 1] <= 10
        moment = datetime(day.year, day.month, day.day, rng.choice(range(7, 23)), rng.randrange(60), rng.randrange(60))
        first_order.setdefault(customer, moment)
        web = rng.random() < (0.05 if big else 0.3)
        employee = None if web else (account_manager[customer] if big else rng.choice(salespeople))
        total = Decimal(0)
        lines = rng.choices((1, 2, 3, 4, 5), weights=(45, 28, 15, 8, 4))[0]
        for product in rng.choices(products, weights=product_weights, k=lines):
            quantity = rng.choices((1, 2, 3, 4, 6, 10), weights=(60, 20, 9, 5, 4, 2))[0] * (
                rng.choice((2, 5)) if big else 1
            )
            discount = rng.choices((Decimal(1), Decimal("0.9"), Decimal("0.85")), weights=(85, 10, 5))[0]
            price = _money(product[3] * discount)
            items.append((len(items) + 1, order_id, product[0], quantity, price))
            total += price * quantity
        orders.append((order_id, customer, employee, _status(rng, day), _money(total), moment))

    customers = []
    used_emails: set[str] = set()
    for cid in range(1, N_CUSTOMERS + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{_ascii(first)}.{_ascii(last)}@{rng.choice(EMAIL_DOMAINS)}"
        if email in used_emails:
            email = email.replace("@", f"{cid}@")
        used_emails.add(email)
        if rng.random() < 0.07:
            email = None  # never given
        joined_by = first_order.get(cid, datetime(2024, 12, 31, 12))
        created = joined_by - timedelta(days=rng.randrange(1, 400), seconds=rng.randrange(86_400))
        customers.append((cid, f"{first} {last}", email, rng.choices(countries, weights=country_weights)[0], created))
    return {
        "customers": tuple(customers),
        "products": tuple(products),
        "employees": tuple(employees),
        "orders": tuple(orders),
        "order_items": tuple(items),
    }


# --- a digest both engines give back alike


def _canonical(value, kind: str) -> str:
    if value is None:
        return "\\N"
    if kind == MONEY:
        return str(_money(Decimal(str(value))))
    if kind == INT:
        return str(int(value))
    if kind == TIMESTAMP and not isinstance(value, str):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if kind == DAY and not isinstance(value, str):
        return value.isoformat()
    return str(value)


def table_digest(table: str, rows: Iterable[Sequence]) -> str:
    kinds = [column.kind for column in TABLES[table]]
    digest = hashlib.sha256(table.encode())
    for row in rows:
        line = "\t".join(_canonical(value, kind) for value, kind in zip(row, kinds, strict=True))
        digest.update(b"\n" + line.encode("utf-8"))
    return digest.hexdigest()


def rows_digest(rows_by_table: dict[str, Iterable[Sequence]]) -> str:
    """One digest of every table's rows (in id order), in a form independent of the engine."""
    parts = "".join(f"{table}:{table_digest(table, rows_by_table[table])}\n" for table in TABLES)
    return hashlib.sha256(parts.encode()).hexdigest()


def expected_digest() -> str:
    return rows_digest(demo_rows())


def _select(table: str) -> str:
    return f"SELECT {', '.join(column.name for column in TABLES[table])} FROM {table} ORDER BY id"  # noqa: S608 - constant names


def database_digest(connection) -> str:
    """The digest of the five tables as a DB-API connection (sqlite3 or psycopg) reads them."""
    rows = {}
    for table in TABLES:
        cursor = connection.cursor()
        cursor.execute(_select(table))
        rows[table] = cursor.fetchall()
    return rows_digest(rows)


def _create_statements(engine: str) -> list[str]:
    statements = [
        f"CREATE TABLE {table} ({', '.join(f'{c.name} {getattr(c, engine)}' for c in columns)})"
        for table, columns in TABLES.items()
    ]
    statements += [f"CREATE INDEX {name} ON {table} ({column})" for name, table, column in INDEXES]
    return statements


# --- SQLite


def _sqlite_value(value):
    if isinstance(value, Decimal):
        return str(value)  # NUMERIC affinity stores it as a number
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return value


def build_demo_sqlite(path: Path) -> str:
    """Write the demo database to ``path`` (built beside it, then renamed into place: never half a file);
    returns the digest of what it holds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    connection = sqlite3.connect(partial)
    try:
        with connection:
            for statement in _create_statements("sqlite"):
                connection.execute(statement)
            for table, rows in demo_rows().items():
                marks = ", ".join("?" for _ in TABLES[table])
                connection.executemany(
                    f"INSERT INTO {table} VALUES ({marks})",  # noqa: S608 - constant names
                    ([_sqlite_value(v) for v in row] for row in rows),
                )
        connection.execute("ANALYZE")  # row estimates for the schema (sqlite_stat1)
        digest = database_digest(connection)
    finally:
        connection.close()
    os.replace(partial, path)
    return digest


def sqlite_file_digest(path: Path) -> str:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return database_digest(connection)
    finally:
        connection.close()


# --- PostgreSQL


class DemoTablesExist(Exception):
    """The PostgreSQL database already has some of the demo's tables, holding other rows."""


def load_demo_postgresql(url: str, *, replace: bool = False) -> tuple[str, bool]:
    """Create the five tables in the database at ``url`` and copy the demo rows in, in one transaction.
    ``(digest, loaded)``: ``loaded`` is ``False`` when the tables already hold exactly the demo rows. Tables of
    these names holding anything else raise ``DemoTablesExist`` unless ``replace`` (then they are dropped)."""
    import psycopg

    with psycopg.connect(url, connect_timeout=10, application_name="majed-vanna-load-demo") as connection:
        existing = [
            row[0]
            for row in connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
                "AND table_name = ANY(%s)",
                [list(TABLES)],
            )
        ]
        if existing:
            if len(existing) == len(TABLES) and _pg_digest_or_none(connection) == expected_digest():
                return expected_digest(), False
            if not replace:
                raise DemoTablesExist(", ".join(sorted(existing)))
            for table in reversed(TABLES):
                connection.execute(f"DROP TABLE IF EXISTS {table}")
        for statement in _create_statements("postgresql"):
            connection.execute(statement)
        with connection.cursor() as cursor:
            for table, rows in demo_rows().items():
                columns = ", ".join(column.name for column in TABLES[table])
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        for table in TABLES:
            connection.execute(f"ANALYZE {table}")
        return database_digest(connection), True


def _pg_digest_or_none(connection) -> str | None:
    import psycopg

    try:
        with connection.transaction():
            return database_digest(connection)
    except psycopg.Error:
        return None
