"""Fixtures shared by every app's tests."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient


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


@pytest.fixture
def api_client():
    return APIClient()
