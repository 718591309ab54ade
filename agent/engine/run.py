"""What one chat run knows while it runs: where its events go, what it ran, what it cost.

A ``Run`` is created by ``agent.services.chat.chat_run`` and bound to the running task (``current_run``), so
the parts vanna calls (the LLM service wrapper, the ``run_sql`` tool, the prompt enhancer) reach it without
vanna passing it along. Everything in it is per run: nothing is shared between chats.
"""

import asyncio
import contextvars
import time
from dataclasses import dataclass, field
from typing import Any

current_run: contextvars.ContextVar["Run | None"] = contextvars.ContextVar("agent_run", default=None)


@dataclass
class SqlAttempt:
    sql: str
    ok: bool
    duration_ms: float
    error: dict | None = None


@dataclass
class Run:
    principal: Any
    question: str
    conversation_id: str
    data_source: Any  # agent.models.DataSource
    sql_retries: int = 2
    max_tool_iterations: int = 5
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)
    events: list[dict] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    # What the run did (lineage)
    attempts: list[SqlAttempt] = field(default_factory=list)
    sql: str = ""
    tables: list[str] = field(default_factory=list)
    row_count: int | None = None
    truncated: bool = False
    llm_ms: float = 0.0
    sql_ms: float = 0.0
    llm_calls: int = 0
    llm_retries: int = 0
    provider: str = ""
    model: str = ""
    usage: dict[str, int] = field(default_factory=dict)
    memories: list[str] = field(default_factory=list)
    semantic: list[str] = field(default_factory=list)
    matched: dict | None = None  # {"memory_id", "question", "score"} when a saved question answered
    metric: str | None = None
    tools_used: list[str] = field(default_factory=list)
    tool_calls: int = 0  # tool calls the model made that counted against ``max_tool_iterations``
    fatal: Exception | None = None  # set by a tool when no correction can help (the data source is down)
    text_parts: list[str] = field(default_factory=list)
    failure: dict | None = None  # the error event's body that ended the run, if any
    # What the prompt is built from (loaded before the run, off the event loop)
    schema: dict | None = None  # the data source's introspected schema
    examples: list[dict] = field(default_factory=list)  # saved questions close to the question
    history: list[dict] = field(default_factory=list)  # earlier turns: {"role", "content"}

    def emit(self, event: dict) -> None:
        """Send ``event`` to the transport and keep it for the stored message."""
        self.events.append(event)
        self.queue.put_nowait(event)

    @property
    def failures(self) -> int:
        return sum(1 for a in self.attempts if not a.ok)

    @property
    def answer_text(self) -> str:
        return "".join(self.text_parts)

    def add_usage(self, usage: dict | None) -> None:
        for key in ("input_tokens", "output_tokens", "total_tokens"):
            if usage and usage.get(key) is not None:
                self.usage[key] = self.usage.get(key, 0) + int(usage[key])

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000
