"""The test set-up: the database is reused locally and created afresh by scripts/test.sh (CI); the root
conftest keeps the fast loop (``pytest -m "not slow"``) free of real processes: a test that uses a process
fixture without ``@pytest.mark.slow`` stops the collection, and one that starts a process anyway fails."""

import subprocess
import sys
from types import SimpleNamespace

import pytest

import conftest


def item(nodeid: str, fixtures: list[str], *, slow: bool):
    return SimpleNamespace(
        nodeid=nodeid,
        fixturenames=fixtures,
        get_closest_marker=lambda name: object() if (slow and name == "slow") else None,
    )


def test_collection_refuses_a_process_fixture_without_the_marker():
    items = [
        item("a.py::test_fast", ["db", "api_client"], slow=False),
        item("a.py::test_server", ["daphne_server", "db"], slow=True),
        item("a.py::test_forgot", ["admin_server", "daphne_server"], slow=False),  # daphne_server via a fixture
        item("a.py::test_worker", ["real_worker"], slow=False),
    ]
    with pytest.raises(pytest.UsageError) as excinfo:
        conftest.pytest_collection_modifyitems(config=None, items=items)
    message = str(excinfo.value)
    assert "a.py::test_forgot" in message and "a.py::test_worker" in message
    assert "test_server" not in message and "test_fast" not in message
    assert "@pytest.mark.slow" in message


def test_collection_accepts_marked_tests():
    conftest.pytest_collection_modifyitems(config=None, items=[item("a.py::t", ["daphne_server"], slow=True)])


def test_a_process_started_by_an_unmarked_test_fails_it():
    with pytest.raises(pytest.fail.Exception, match=r"mark it @pytest\.mark\.slow"):
        subprocess.run([sys.executable, "-c", "pass"], check=False)


@pytest.mark.slow
def test_a_marked_test_may_start_processes():
    assert subprocess.run([sys.executable, "-c", "pass"], check=False).returncode == 0


def test_local_runs_reuse_the_test_database_and_ci_creates_it(pytestconfig):
    """``pytest.ini`` reuses the database (fast local loop); ``scripts/test.sh`` (the README's command, run
    twice by ``.ci/run``) always creates it afresh, so CI never tests against a stale schema."""
    from pathlib import Path

    root = Path(pytestconfig.rootpath)
    assert "--reuse-db" in pytestconfig.getini("addopts")
    pytest_lines = [line for line in (root / "scripts/test.sh").read_text().splitlines() if " -m pytest" in line]
    assert pytest_lines and all("--create-db" in line for line in pytest_lines)
    ci = (root / ".ci/run").read_text()
    assert ci.count("bash scripts/test.sh") == 2
