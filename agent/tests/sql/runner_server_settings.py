"""Settings for the daphne process of the runners' concurrency test: the test profile plus ``runner_urls``."""

from majed_vanna.settings.test import *  # noqa: F403

ROOT_URLCONF = "agent.tests.sql.runner_urls"
