"""Fixtures of the knowledge tests: the demo data source from a demo file built once per session, the chat
fixtures (fake LLM, offline mode) and answers stored as a chat run stores them (feedback tests)."""

import shutil
import sqlite3

import pytest

from agent import tool_settings
from agent.services.conversations import conversation_start, message_append
from agent.services.demo_data import demo_sqlite_install
from agent.tests.chat.conftest import (  # noqa: F401 - fixtures shared with the chat tests
    _close_llm_clients,
    _fast_llm,
    offline,
    openai_llm,
)

SHIPPED = "How many orders have shipped?"
SHIPPED_SQL = "SELECT count(*) AS n FROM orders WHERE status = 'shipped'"
WRONG_SQL = "SELECT count(*) AS n FROM orders"


@pytest.fixture(scope="module")
def shop_file(tmp_path_factory):
    """A small shop database (orders by status), built once per module."""
    path = tmp_path_factory.mktemp("feedback-shop") / "shop.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT, total REAL)")
        connection.executemany(
            "INSERT INTO orders (status, total) VALUES (?, ?)",
            [(status, 10.0 * n) for n, status in enumerate(["shipped", "pending", "shipped", "cancelled"])],
        )
        connection.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    connection.close()
    return path


@pytest.fixture
def shop_source(db, settings, shop_file):
    """The shop database as a data source every role may use."""
    from agent.tests.factories import make_source

    settings.MV_ALLOWED_PATH_ROOTS = [*settings.MV_ALLOWED_PATH_ROOTS, str(shop_file.parent)]
    return make_source(name="shop", url=f"sqlite:///{shop_file}")


@pytest.fixture(autouse=True)
def _fresh_tool_settings():
    tool_settings.forget()
    yield
    tool_settings.forget()


def answered(principal, *, question: str = SHIPPED, sql: str | None = WRONG_SQL, source=None, **lineage):
    """A conversation of ``principal`` with ``question`` and its answer (lineage as a chat run writes it);
    returns the answer (assistant message)."""
    conversation = conversation_start(principal=principal, title=question, data_source=source)
    message_append(principal=principal, conversation=conversation, role="user", content=question)
    data_source = {"id": str(source.pk), "name": source.name} if source is not None else None
    return message_append(
        principal=principal,
        conversation=conversation,
        role="assistant",
        content="There are 4,000 orders.",
        lineage={"sql": sql, "data_source": data_source, "matched_question": None, **lineage},
    )


@pytest.fixture
def demo_file(own_data_dir, built_demo):
    """``$MV_DATA_DIR/demo.sqlite3`` in this test's directory, already built."""
    path = own_data_dir / "demo.sqlite3"
    shutil.copyfile(built_demo, path)
    return path


@pytest.fixture
def demo_source(demo_file, db):
    return demo_sqlite_install(by="test").source
