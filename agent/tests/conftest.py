import sys
import types

import pytest

from .factories import sqlite_file


@pytest.fixture(scope="session")
def built_demo(tmp_path_factory):
    """The demo SQLite file, built once per test session (it is deterministic; each build takes a second or
    more): tests copy it into their own data dir."""
    from agent import demo

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    demo.build_demo_sqlite(path)
    return path


@pytest.fixture
def own_data_dir(settings, tmp_path):
    """``MV_DATA_DIR`` (and so the demo file and the embedded default data source) in this test's directory:
    other tests rely on the run's shared one having no demo file."""
    settings.DATA_DIR = tmp_path
    settings.MV_DATA_SOURCE_URL = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    settings.MV_ALLOWED_PATH_ROOTS = [str(tmp_path)]
    return tmp_path


@pytest.fixture
def roots(settings, tmp_path):
    """``tmp_path`` is an allowed root (beside MV_DATA_DIR): sqlite files of the tests live there."""
    settings.MV_ALLOWED_PATH_ROOTS = [str(settings.DATA_DIR), str(tmp_path)]
    return tmp_path


@pytest.fixture
def sqlite_url(roots):
    """The URL of a real SQLite file inside an allowed root."""
    return f"sqlite:///{sqlite_file(roots / 'shop.sqlite3')}"


@pytest.fixture
def fake_introspect(monkeypatch):
    """``agent.sql.introspect.introspect`` (the runners' module) replaced by a recorder: the schema
    endpoint's cache and refresh are this app's, the introspection is not."""
    calls = []

    def introspect(spec):
        calls.append(spec)
        return {"tables": [{"name": "t", "columns": [{"name": "id", "type": "INTEGER"}], "rows": len(calls)}]}

    module = types.ModuleType("agent.sql.introspect")
    module.introspect = introspect
    monkeypatch.setitem(sys.modules, "agent.sql.introspect", module)
    return calls
