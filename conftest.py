"""Fixtures shared by every app's tests."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from majed_vanna.roles import Role
from majed_vanna.tests.fake_llm import fake_llm  # noqa: F401 - fixture: scriptable fake LLM server on 127.0.0.1
from majed_vanna.tests.servers import daphne_server  # noqa: F401 - fixture: real daphne processes for tests


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
