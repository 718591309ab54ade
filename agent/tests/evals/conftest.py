from agent.tests.chat.conftest import (  # noqa: F401 - fixtures shared with the chat tests
    _close_llm_clients,
    _fast_llm,
    demo_source,
    offline,
    openai_llm,
)
