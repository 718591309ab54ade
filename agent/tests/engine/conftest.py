"""The engine's tests reuse the chat fixtures (LLM configured at the fake server, ``ask``...)."""

import shutil

import pytest
from asgiref.sync import sync_to_async

from agent.services.demo_data import demo_sqlite_install
from agent.tests.chat.conftest import (  # noqa: F401 - fixtures
    _close_llm_clients,
    _fast_llm,
    anthropic_llm,
    offline,
    openai_llm,
)
from config_api.services import config_update


@pytest.fixture
def demo_source(own_data_dir, db, built_demo):
    """The chat tests' ``demo_source`` (the demo data source, the default one), from a copy of ``built_demo``."""
    shutil.copyfile(built_demo, own_data_dir / "demo.sqlite3")
    return demo_sqlite_install(by="test").source


@pytest.fixture
def configure(admin):
    """``await configure(agent_sql_retries=1, ...)``: change the runtime configuration as an admin would."""

    async def change(**changes):
        await sync_to_async(config_update)(actor=admin, changes=changes)

    return change
