"""The engine's tests reuse the chat fixtures (demo source, LLM configured at the fake server, ``ask``...)."""

import pytest
from asgiref.sync import sync_to_async

from agent.tests.chat.conftest import (  # noqa: F401 - fixtures
    _close_llm_clients,
    _fast_llm,
    anthropic_llm,
    demo_source,
    offline,
    openai_llm,
)
from config_api.services import config_update


@pytest.fixture
def configure(admin):
    """``await configure(agent_sql_retries=1, ...)``: change the runtime configuration as an admin would."""

    async def change(**changes):
        await sync_to_async(config_update)(actor=admin, changes=changes)

    return change
