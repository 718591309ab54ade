"""Each test starts with this process's tool-settings memo empty (it outlives a test's rolled-back rows)."""

import pytest

import majed_vanna.urls  # noqa: F401 - loaded at collection: the first load imports openai, which runs `uname -p`
from agent import tool_settings


@pytest.fixture(autouse=True)
def _fresh_tool_settings():
    tool_settings.forget()
    yield
    tool_settings.forget()
