"""Fixtures of the knowledge tests: the demo data source from a demo file built once per session."""

import shutil

import pytest

from agent.services.demo_data import demo_sqlite_install


@pytest.fixture(scope="session")
def built_demo(tmp_path_factory):
    from agent import demo

    path = tmp_path_factory.mktemp("knowledge-demo") / "demo.sqlite3"
    demo.build_demo_sqlite(path)
    return path


@pytest.fixture
def demo_file(own_data_dir, built_demo):
    """``$MV_DATA_DIR/demo.sqlite3`` in this test's directory, already built."""
    path = own_data_dir / "demo.sqlite3"
    shutil.copyfile(built_demo, path)
    return path


@pytest.fixture
def demo_source(demo_file, db):
    return demo_sqlite_install(by="test").source
