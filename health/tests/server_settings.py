"""Test settings with the health results cache on (``HEALTH_CACHE_SECONDS``, 2 s as in production), for
server processes whose cache reads and writes are under test."""

from majed_vanna.settings.test import *  # noqa: F403

HEALTH_CACHE_SECONDS = 2
