"""Fixtures shared by every app's tests, and the rule that keeps the fast loop fast: a test that starts a
real process (daphne, a Celery worker, ``manage.py`` in a subprocess) carries ``@pytest.mark.slow``, so
``pytest -m "not slow"`` leaves it out. Checked twice: at collection (a test using a process fixture) and
while running (any test without the marker that starts a process fails, whatever started it)."""

import subprocess

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from majed_vanna.roles import Role
from majed_vanna.tests.fake_llm import fake_llm  # noqa: F401 - fixture: scriptable fake LLM server on 127.0.0.1
from majed_vanna.tests.servers import daphne_server  # noqa: F401 - fixture: real daphne processes for tests

# Fixtures that start real processes; a fixture built on one of them is seen through the fixture closure.
PROCESS_FIXTURES = frozenset({"daphne_server", "real_worker"})
SLOW_HINT = 'mark it @pytest.mark.slow (it starts a real process; the fast loop runs -m "not slow")'


def pytest_collection_modifyitems(config, items):
    unmarked = [
        item.nodeid
        for item in items
        if PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())) and item.get_closest_marker("slow") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            f"{len(unmarked)} test(s) use a process fixture without the slow marker; "
            f"{SLOW_HINT}:\n  " + "\n  ".join(unmarked)
        )


@pytest.fixture(autouse=True)
def _processes_need_the_slow_marker(request, monkeypatch):
    """A test without ``@pytest.mark.slow`` that starts a process (``run_manage``, ``start_daphne``,
    ``subprocess``...) fails, naming the marker."""
    if request.node.get_closest_marker("slow") is not None:
        yield
        return

    def refuse(self, args, *more, **kwargs):
        pytest.fail(f"{request.node.nodeid} started a process ({args!r:.120}): {SLOW_HINT}", pytrace=False)

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
    yield


@pytest.fixture(autouse=True)
def _clean_cache():
    """Throttle counters, idempotency keys and deny-lists live in the cache: start each test empty.

    With REDIS_URL set, only this project's keys (its KEY_PREFIX) are removed.
    """
    _clear()
    yield
    _clear()


def _clear():
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("*")
    else:
        cache.clear()
    # Process-local memos that trust the cache's stamps: forget them with the stamps.
    from agent import tool_settings

    tool_settings.forget()


@pytest.fixture(autouse=True)
def _restore_runtime_config_provider():
    """Tests that swap the runtime-config provider (and reset it to None) get config_api's back afterwards,
    so later tests see the real configuration whatever the test order."""
    from majed_vanna import runtime

    provider, offline = runtime._provider, runtime._offline_provider
    yield
    runtime.set_runtime_config_provider(provider, offline=offline)


@pytest.fixture
def password():
    return DEFAULT_PASSWORD


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory(role=Role.NORMAL)


@pytest.fixture
def superuser(db):
    return UserFactory(role=Role.SUPERUSER)


@pytest.fixture
def admin(db):
    return UserFactory(role=Role.ADMIN)


@pytest.fixture
def api_client_for(db):
    """``api_client_for(user)``: an APIClient sending a real JWT access token for ``user``."""

    def make(user) -> APIClient:
        client = APIClient()
        token = RefreshToken.for_user(user).access_token
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return make
