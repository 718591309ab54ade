"""Settings for daphne processes started by tests: the test profile plus the test-only views."""

from majed_vanna.settings.test import *  # noqa: F403

ROOT_URLCONF = "majed_vanna.tests.urls"

# A path with a body limit above Django's in-memory DATA_UPLOAD_MAX_MEMORY_SIZE (as backups/upload has).
REQUEST_BODY_LIMIT_OVERRIDES = {**REQUEST_BODY_LIMIT_OVERRIDES, "/api/v1/test/upload-size": 64 * 1024 * 1024}  # noqa: F405
