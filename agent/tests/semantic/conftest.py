"""Fixtures of the semantic-layer tests: the demo data source (its file built once per session and copied), a
small SQLite shop whose schema the tests change between scans, and the scan itself run from sync code."""

import platform
import shutil
import sqlite3
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync

from agent.services.demo_data import demo_sqlite_install
from agent.services.semantic_sync import semantic_sync

from ..factories import make_source

# The OpenAI client calls platform.platform() when agent.urls is first imported, and platform runs ``uname -p``
# once per process: warmed here, at collection, so that the first test importing the URLconf (any API test) does
# not start that process inside a test (the root conftest refuses processes in tests not marked slow).
platform.processor()

SHOP_SCHEMA = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, segment TEXT, email TEXT, secret_token TEXT);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers (id), status TEXT NOT NULL,
    total NUMERIC NOT NULL, note TEXT
);
CREATE TABLE refunds (id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders (id), amount NUMERIC);
"""


@pytest.fixture(scope="session")
def demo_file(built_demo) -> Path:
    """The session's demo file (agent/tests/conftest.py): tests copy it, never change it."""
    return built_demo


@pytest.fixture
def demo_source(own_data_dir, demo_file, db):
    """The demo SQLite data source (a copy of the session's file in this test's data dir), the default one."""
    shutil.copy(demo_file, own_data_dir / "demo.sqlite3")
    return demo_sqlite_install(by="test").source


def shop_rows(conn: sqlite3.Connection) -> None:
    segments = ["retail", "wholesale", "online"]
    conn.executemany(
        "INSERT INTO customers (id, name, segment, email, secret_token) VALUES (?, ?, ?, ?, ?)",
        [(i, f"Customer {i}", segments[i % 3], f"c{i}@example.com", f"tok-{i}") for i in range(1, 31)],
    )
    statuses = ["pending", "shipped", "delivered", "cancelled"]
    conn.executemany(
        "INSERT INTO orders (id, customer_id, status, total, note) VALUES (?, ?, ?, ?, ?)",
        [(i, i % 30 + 1, statuses[i % 4], i * 10, f"note {i}") for i in range(1, 101)],
    )


@pytest.fixture
def shop_path(roots) -> Path:
    path = roots / "shop.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(SHOP_SCHEMA)
        shop_rows(conn)
    conn.close()
    return path


@pytest.fixture
def shop(shop_path, db):
    """A data source on a small SQLite shop that the tests change between scans (``alter``)."""
    return make_source(name="shop", url=f"sqlite:///{shop_path}")


def alter(path: Path, script: str) -> None:
    """Change the shop's schema behind the data source's back (as its owners would)."""
    with sqlite3.connect(path) as conn:
        conn.executescript(script)
    conn.close()


def sync(source, actor=None, **kwargs) -> dict:
    """One scan, from a sync test (the scan's ORM work runs in the test's thread and transaction)."""
    return async_to_sync(semantic_sync)(source=source, actor=actor, by=kwargs.pop("by", "test"), **kwargs)
