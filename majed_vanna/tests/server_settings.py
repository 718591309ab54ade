"""Settings for daphne processes started by tests: the test profile plus the test-only views."""

from majed_vanna.settings.test import *  # noqa: F403

ROOT_URLCONF = "majed_vanna.tests.urls"
