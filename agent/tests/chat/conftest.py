"""Fixtures of the chat tests: the demo data source, an LLM configured against the fake server, a chat caller."""

import json
import shutil

import pytest
from asgiref.sync import sync_to_async

from agent.llm.base import aclose_clients
from agent.services.chat import chat_collect, chat_prepare, chat_stream
from agent.services.demo_data import demo_sqlite_install
from config_api.services import config_update


@pytest.fixture
def demo_source(own_data_dir, db, built_demo):
    """The demo SQLite data source (a copy of the session's demo file in this test's data dir), the default one."""
    shutil.copyfile(built_demo, own_data_dir / "demo.sqlite3")
    return demo_sqlite_install(by="test").source


@pytest.fixture(autouse=True)
def _fast_llm(settings):
    settings.LLM_RETRY_BASE_DELAY = 0.01
    settings.LLM_RETRY_MAX_DELAY = 0.2
    settings.LLM_MAX_RETRIES = 1
    settings.LLM_TIMEOUT_SECONDS = 10


@pytest.fixture(autouse=True)
async def _close_llm_clients():
    yield
    await aclose_clients()


@pytest.fixture
def openai_llm(admin, fake_llm):
    """The runtime configuration points at the fake server as an OpenAI-compatible provider."""
    config_update(
        actor=admin,
        changes={
            "llm_provider": "openai",
            "llm_model": "fake-model-1",
            "llm_base_url": fake_llm.url + "/v1",
            "llm_api_key": fake_llm.api_key,
        },
    )
    return fake_llm


@pytest.fixture
def anthropic_llm(admin, fake_llm):
    config_update(
        actor=admin,
        changes={
            "llm_provider": "anthropic",
            "llm_model": "fake-model-1",
            "llm_base_url": fake_llm.url,
            "llm_api_key": fake_llm.api_key,
        },
    )
    return fake_llm


@pytest.fixture
def offline(admin):
    config_update(actor=admin, changes={"llm_provider": "none"})


async def ask(principal, message, **kwargs) -> dict:
    """One chat run collected (chat_poll's answer)."""
    prepared = await chat_prepare(principal=principal, message=message, **kwargs)
    return await chat_collect(prepared)


async def stream(principal, message, **kwargs) -> list[dict]:
    prepared = await chat_prepare(principal=principal, message=message, **kwargs)
    return [event async for event in chat_stream(prepared)]


def tool_args(sql: str) -> dict:
    return {"sql": sql}


def sent_messages(fake, index: int = -1) -> list[dict]:
    """The messages of the ``index``-th request the fake LLM received."""
    body = fake.requests[index].body
    return body if isinstance(body, list) else body.get("messages", [])


__all__ = ["ask", "json", "sent_messages", "stream", "sync_to_async", "tool_args"]
