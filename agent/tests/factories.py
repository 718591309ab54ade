"""Data sources for the agent's tests: real SQLite files inside the allowed roots, created through the services."""

import sqlite3
from pathlib import Path

from agent.models import DataSource
from agent.services import data_source_create

PG_URL = "postgresql://reader:s3cret-pass@db.example.com:5432/shop"
PASSWORD = "s3cret-pass"


def sqlite_file(path: Path) -> Path:
    """A small SQLite database at ``path`` (one table)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, name TEXT)")
    connection.close()
    return path


def make_source(*, name: str, url: str, actor=None, **fields) -> DataSource:
    return data_source_create(actor=actor, name=name, url=url, by="test", **fields)
