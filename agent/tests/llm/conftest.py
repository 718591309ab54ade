import pytest
from vanna.core.llm import LlmMessage, LlmRequest
from vanna.core.tool import ToolSchema
from vanna.core.user.models import User

from agent.llm.anthropic import AnthropicLlmService
from agent.llm.base import aclose_clients
from agent.llm.openai_compatible import OpenAICompatibleLlmService
from majed_vanna.tests.fake_llm import (
    anthropic_message,
    anthropic_stream,
    openai_completion,
    openai_stream,
)

RUN_SQL = ToolSchema(
    name="run_sql",
    description="Run one read-only SQL query",
    parameters={"type": "object", "properties": {"sql": {"type": "string"}}, "required": ["sql"]},
)


class Provider:
    """One provider's service pointed at the fake server, and its wire-format builders."""

    def __init__(self, name, fake):
        self.name = name
        if name == "openai":
            self.service = OpenAICompatibleLlmService(
                model="fake-model-1", api_key=fake.api_key, base_url=fake.url + "/v1"
            )
            self.completion, self.stream, self.path = openai_completion, openai_stream, "/v1/chat/completions"
        else:
            self.service = AnthropicLlmService(model="fake-model-1", api_key=fake.api_key, base_url=fake.url)
            self.completion, self.stream, self.path = anthropic_message, anthropic_stream, "/v1/messages"


@pytest.fixture(autouse=True)
def _fast_retries(settings):
    settings.LLM_RETRY_BASE_DELAY = 0.01
    settings.LLM_RETRY_MAX_DELAY = 0.5
    settings.LLM_MAX_RETRIES = 2
    settings.LLM_TIMEOUT_SECONDS = 10


@pytest.fixture(autouse=True)
async def _close_clients():
    yield
    await aclose_clients()


@pytest.fixture(params=["openai", "anthropic"])
def provider(request, fake_llm):
    return Provider(request.param, fake_llm)


def question(text="How many customers?", *, tools=True, history=()):
    return LlmRequest(
        messages=[*history, *([LlmMessage(role="user", content=text)] if text is not None else [])],
        tools=[RUN_SQL] if tools else None,
        user=User(id="u1"),
        system_prompt="You answer questions with SQL.",
    )
