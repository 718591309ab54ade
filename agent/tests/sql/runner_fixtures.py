"""Fixtures of the runner and introspection tests: a small SQLite file and, on PostgreSQL runs, a scratch
database with the same rows and a real read-only role made by ``create_readonly_role``'s SQL.

Imported by the test modules (not through ``conftest.py``, which the gate's tests share)."""

import hashlib
import os
import sqlite3
from dataclasses import dataclass, replace
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from agent.sql.types import CheckedSQL, DataSourceSpec

ON_POSTGRESQL = "postgresql" in settings.DATABASES["default"]["ENGINE"]
requires_postgresql = pytest.mark.skipif(
    not ON_POSTGRESQL, reason="needs a PostgreSQL server: set DATABASE_URL to one (CI's second run does)"
)

CUSTOMERS = [(i, f"Customer {i}", ("SA", "AE", "EG", None)[i % 4], f"2024-01-{1 + i % 28:02d}") for i in range(1, 41)]
ORDERS = [
    (
        i,
        1 + i % 40,
        round(10 + (i * 37) % 250 + 0.25, 2),
        ("pending", "shipped", "delivered", "cancelled")[i % 4],
        f"2024-{1 + i % 12:02d}-{1 + i % 28:02d} 10:00:00",
    )
    for i in range(1, 301)
]
TABLES = ("customers", "orders", "numbers", "big_orders")


def checked(sql: str, tables=TABLES, dialect: str = "sqlite") -> CheckedSQL:
    """A statement as if the gate had let it through (the tests bypass the gate on purpose)."""
    return CheckedSQL(sql=sql, dialect=dialect, tables=tuple(tables))


# --- SQLite ---------------------------------------------------------------------------------------------


def build_sqlite(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, country TEXT, created_at TEXT);
        CREATE TABLE orders (
            id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id),
            total NUMERIC, status TEXT, ordered_at TEXT, receipt BLOB
        );
        CREATE TABLE numbers (n INTEGER PRIMARY KEY);
        CREATE TABLE secret (id INTEGER PRIMARY KEY, token TEXT);
        CREATE VIEW big_orders AS SELECT id, customer_id, total FROM orders WHERE total > 200;
        CREATE INDEX orders_customer ON orders (customer_id);
        """
    )
    conn.executemany("INSERT INTO customers VALUES (?, ?, ?, ?)", CUSTOMERS)
    conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, NULL)", ORDERS)
    conn.execute("UPDATE orders SET receipt = x'00ff10' WHERE id = 1")
    conn.executemany("INSERT INTO numbers VALUES (?)", [(n,) for n in range(1, 2001)])
    conn.execute("INSERT INTO secret VALUES (1, 'do-not-read')")
    conn.commit()
    conn.close()
    return path


def sqlite_spec(path: Path, **overrides) -> DataSourceSpec:
    spec = DataSourceSpec(id="sqlite-test", name="SQLite test", engine="sqlite", url=f"sqlite:///{path}")
    return replace(spec, **overrides)


def directory_digest(directory: Path) -> dict[str, str]:
    """Every file of ``directory`` and its SHA-256: a write anywhere (or a new file) changes it."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.iterdir())
        if path.is_file()
    }


@pytest.fixture
def sqlite_source(tmp_path):
    """``(spec, directory)``: the test file alone in its own directory (absolute URL)."""
    directory = tmp_path / "source"
    directory.mkdir()
    path = build_sqlite(directory / "data.sqlite3")
    return sqlite_spec(path), directory


# --- PostgreSQL -----------------------------------------------------------------------------------------


@dataclass
class PgSource:
    admin_url: str
    database: str
    role: str
    owner: DataSourceSpec  # the administrator's login: no role protection (to test the other layers alone)
    readonly: DataSourceSpec  # the read-only role's login

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.admin_url, autocommit=True)

    def digest(self) -> str:
        """The rows of every table, the sequences, and the list of relations, functions and roles."""
        with self.admin() as conn:
            parts = []
            for table in ("public.customers", "public.orders", "public.numbers", "private.secret"):
                parts.append(
                    conn.execute(
                        f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t"
                    ).fetchone()[0]
                )
            parts.append(str(conn.execute("SELECT last_value, is_called FROM public.counter").fetchone()))
            parts += [
                str(row)
                for row in conn.execute(
                    "SELECT n.nspname, c.relname, c.relkind FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname IN ('public', 'private') OR c.relpersistence = 't' ORDER BY 1, 2"
                )
            ]
            parts += [
                str(row)
                for row in conn.execute(
                    "SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace ORDER BY 1"
                )
            ]
            parts += [str(row) for row in conn.execute("SELECT rolname, rolsuper FROM pg_roles ORDER BY 1")]
            parts.append(str(conn.execute("SELECT count(*) FROM pg_largeobject_metadata").fetchone()))
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _admin_url(dbname: str) -> str:
    db = settings.DATABASES["default"]
    params = {
        "host": db.get("HOST") or "localhost",
        "port": db.get("PORT") or 5432,
        "user": db.get("USER") or "postgres",
        "password": db.get("PASSWORD") or None,
        "dbname": dbname,
    }
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in params.items() if v is not None})


def _url(conninfo: str, **changes) -> str:
    params = {**psycopg.conninfo.conninfo_to_dict(conninfo), **changes}
    auth = params["user"] + (f":{params['password']}" if params.get("password") else "")
    return f"postgresql://{auth}@{params['host']}:{params.get('port', 5432)}/{params['dbname']}"


PG_SCHEMA = """
CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL, country text, created_at date);
CREATE TABLE orders (
    id integer PRIMARY KEY, customer_id integer NOT NULL REFERENCES customers(id), total numeric(10, 2),
    status text, ordered_at timestamptz, receipt bytea
);
CREATE TABLE numbers (n integer PRIMARY KEY);
CREATE VIEW big_orders AS SELECT id, customer_id, total FROM orders WHERE total > 200;
CREATE SEQUENCE counter;
CREATE SCHEMA private;
CREATE TABLE private.secret (id integer PRIMARY KEY, token text);
CREATE FUNCTION public.evil_insert() RETURNS integer LANGUAGE sql AS
    $$ INSERT INTO public.numbers VALUES (-1) RETURNING n $$;
"""


@pytest.fixture(scope="session")
def pg_source():
    if not ON_POSTGRESQL:
        pytest.skip("needs a PostgreSQL server: set DATABASE_URL to one (CI's second run does)")
    from agent.management.commands.create_readonly_role import as_text, readonly_role_statements

    base = settings.DATABASES["default"]["NAME"]
    suffix = f"{os.getpid()}"
    database, role = f"{base}_rsrc_{suffix}"[:63], f"{base}_ro_{suffix}"[:63]
    maintenance = _admin_url("postgres")
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'DROP ROLE IF EXISTS "{role}"')
        conn.execute(f'CREATE DATABASE "{database}"')
    admin = _admin_url(database)
    password = "ro-" + os.urandom(12).hex()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(PG_SCHEMA)
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO customers VALUES (%s, %s, %s, %s)", CUSTOMERS)
            cursor.executemany("INSERT INTO orders VALUES (%s, %s, %s, %s, %s, NULL)", ORDERS)
        conn.execute("UPDATE orders SET receipt = '\\x00ff10'::bytea WHERE id = 1")
        conn.execute("INSERT INTO numbers SELECT generate_series(1, 2000)")
        conn.execute("INSERT INTO private.secret VALUES (1, 'do-not-read')")
        conn.execute("ANALYZE")
        conn.execute(
            as_text(readonly_role_statements(role=role, password=password, database=database, schemas=["public"]))
        )
    owner = DataSourceSpec(id="pg-owner", name="PG owner", engine="postgresql", url=_url(admin))
    readonly = DataSourceSpec(
        id="pg-readonly", name="PG read-only", engine="postgresql", url=_url(admin, user=role, password=password)
    )
    yield PgSource(admin_url=admin, database=database, role=role, owner=owner, readonly=readonly)
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.fixture
async def runner_pools():
    """Closes the PostgreSQL pools this test's event loop opened."""
    from agent.sql.runners import close_pools

    yield
    await close_pools()


__all__ = ["pg_source", "runner_pools", "sqlite_source"]  # the fixtures; test modules import the rest by name
