import pytest

from agent.tests.chat.conftest import (  # noqa: F401 - fixtures shared with the chat tests
    _close_llm_clients,
    _fast_llm,
    demo_source,
    offline,
    openai_llm,
)


@pytest.fixture(autouse=True)
def eager_tasks():
    """Evaluation runs execute in-process (the embedded default), also when REDIS_URL points at a broker (CI's
    second run): these tests follow a run through the API; the Celery worker path is the backups' (config_api)."""
    from majed_vanna.celery import app as celery_app

    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before
