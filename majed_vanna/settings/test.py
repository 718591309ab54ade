"""Test profile: fast hashing, quiet logs. Database and Redis still come from the environment,
so the same suite runs on SQLite + local memory and on PostgreSQL + Redis (see .ci/run)."""

from .base import *  # noqa: F403

SECRET_KEY = SECRET_KEY or "test-secret-key-not-for-production-" + "x" * 20  # noqa: F405
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# Each test sees its checks' current results; the health tests that cover the cache turn it on.
HEALTH_CACHE_SECONDS = 0
SIMPLE_JWT["SIGNING_KEY"] = JWT_SIGNING_KEY or derived_key(SECRET_KEY, "jwt")  # noqa: F405
# The worker fault tests slow a backup down (seconds after each table) so that it can be killed mid-way.
BACKUP_TEST_TABLE_DELAY_SECONDS = float(env("MV_TEST_BACKUP_TABLE_DELAY", "0"))  # noqa: F405
