"""Fixtures for config_api tests: isolated paths, a fresh runtime-config memo, in-process Celery tasks."""

import pytest

from config_api import runtime
from majed_vanna.celery import app as celery_app


@pytest.fixture(autouse=True)
def isolated_paths(settings, tmp_path):
    """Backups, logs and the data source live under this test's tmp dir, the only allowed path root."""
    settings.MV_BACKUP_DIR = str(tmp_path / "backups")
    settings.MV_LOG_DIR = str(tmp_path / "logs")
    settings.MV_ALLOWED_PATH_ROOTS = [str(tmp_path)]
    settings.MV_DATA_SOURCE_URL = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    settings.LLM_PROVIDER, settings.LLM_MODEL, settings.LLM_BASE_URL, settings.LLM_API_KEY = "none", "", "", ""
    runtime.publish_stamp(None)
    yield tmp_path
    runtime.publish_stamp(None)


@pytest.fixture(autouse=True)
def eager_tasks(request):
    """Tasks run in-process (the embedded default) unless the test uses the ``real_worker`` fixture."""
    before = celery_app.conf.task_always_eager
    if "real_worker" not in request.fixturenames:
        celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


@pytest.fixture
def admin_client(admin, api_client_for):
    return api_client_for(admin)
