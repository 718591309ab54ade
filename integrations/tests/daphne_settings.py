"""Settings for the daphne process that ``test_daphne`` starts: the test profile plus the probe URLs."""

from majed_vanna.settings.test import *  # noqa: F403

ROOT_URLCONF = "integrations.tests.urls"
