"""Fixtures of the wiring tests (issue 16's seams in the agent's one path): the demo data source built once per
session, its semantic layer scanned, and each test starting with this process's tool-settings memo empty (the
memo outlives a test's rolled-back rows)."""

import shutil

import pytest
from asgiref.sync import async_to_sync

import majed_vanna.urls  # noqa: F401 - loaded at collection: the first load imports openai, which runs `uname -p`
from agent import tool_settings
from agent.models import SemanticTable
from agent.services.demo_data import demo_sqlite_install
from agent.services.semantic import semantic_entry_update
from agent.services.semantic_sync import semantic_sync

from ..chat.conftest import _close_llm_clients, _fast_llm, offline, openai_llm  # noqa: F401 - fixtures

HIDDEN = "employees"  # hidden from normal users by ``scanned_hidden``


@pytest.fixture(autouse=True)
def _fresh_tool_settings():
    tool_settings.forget()
    yield
    tool_settings.forget()


@pytest.fixture(scope="session")
def built_demo(tmp_path_factory):
    from agent import demo

    path = tmp_path_factory.mktemp("wiring-demo") / "demo.sqlite3"
    demo.build_demo_sqlite(path)
    return path


@pytest.fixture
def demo_source(own_data_dir, db, built_demo):
    """The demo data source (the default one), from a copy of the session's demo file."""
    shutil.copyfile(built_demo, own_data_dir / "demo.sqlite3")
    return demo_sqlite_install(by="test").source


@pytest.fixture
def scanned(demo_source):
    """The demo source with its semantic layer scanned (every table visible to every role)."""
    async_to_sync(semantic_sync)(source=demo_source, actor=None, by="test")
    return demo_source


@pytest.fixture
def scanned_hidden(scanned, admin):
    """``HIDDEN`` seen by admins and superusers only."""
    table = SemanticTable.objects.get(data_source=scanned, name=HIDDEN)
    semantic_entry_update(entry=table, actor=admin, visible_to=["admin", "superuser"])
    return scanned
