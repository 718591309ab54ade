"""vanna 2.0.2's agent loop with our parts in each of its seams (``../shared/AGENT_DESIGN.md``).

``MajedAgent`` is vanna's ``Agent`` with four changes, each because the original cannot meet the contract:

* ``send_message`` lets exceptions through (vanna's turns every error into a generic "unexpected error" card;
  we need the contract's codes: ``LLM_UNAVAILABLE``, ``AGENT_GAVE_UP``, ...);
* ``_handle_streaming_response`` publishes each text delta to the run as it arrives (vanna's accumulates the
  whole stream before showing anything) and records the call's time, retries, model and token usage;
* ``_send_llm_request`` records the same for non-streamed calls;
* the tool-call budget: vanna counts model answers that hold tool calls and stops before the model can answer
  after the last one; here ``RunToolRegistry`` (``agent.engine.tools``) counts each call against
  ``agent_max_tool_iterations``, vanna's own limit is one higher, and an answer made once the calls are
  spent is the model's last word (``_last_word`` drops its tool calls). So the model makes at most that many
  tool calls and gets one more request to answer from their results.

Everything else is vanna's: the tool loop, the registry's access check and argument validation, lifecycle
hooks, the prompt builder/enhancer seams. Our parts: the user resolver (the principal the request policy
authenticated, never the request body), a per-run conversation store (the ORM history is loaded once before
the run, each earlier answer with the SQL behind it; the run's messages are stored once, by
``agent.services.chat``), a workflow handler that never answers instead of the model, the memory adapter,
``agent.engine.prompt`` and the correction hook below (``AGENT_GAVE_UP`` after ``agent_sql_retries``
corrections, or when the tool calls are spent without one query that ran). vanna's UI components are
ignored: the run's own events (``agent.engine.events``) are what transports send.
"""

import time

from vanna.core.agent import Agent, AgentConfig
from vanna.core.lifecycle import LifecycleHook
from vanna.core.llm import LlmRequest, LlmResponse
from vanna.core.storage import Conversation, ConversationStore
from vanna.core.storage import Message as VannaMessage
from vanna.core.user import RequestContext, User, UserResolver
from vanna.core.workflow import WorkflowHandler, WorkflowResult

from majed_vanna.api.permissions import principal_permissions
from majed_vanna.exceptions import ApplicationError

from . import events
from .memory import RunAgentMemory
from .prompt import ContextEnhancer, RulesPromptBuilder
from .run import Run, current_run
from .tools import tool_registry


class AgentGaveUp(ApplicationError):
    code, status_code, default_message = "AGENT_GAVE_UP", 422, "The agent could not produce a valid query"


def vanna_user(principal) -> User:
    """vanna's view of the caller: its groups are its contract permissions (tool access groups)."""
    return User(
        id=str(getattr(principal, "pk", "") or getattr(principal, "integration_client_id", "")),
        username=getattr(principal, "username", None) or getattr(principal, "client_name", None),
        group_memberships=sorted(principal_permissions(principal)),
    )


class PrincipalResolver(UserResolver):
    async def resolve_user(self, request_context: RequestContext) -> User:
        return vanna_user(current_run.get().principal)


HISTORY_SQL_CHARS = 1_000


def turn_text(turn: dict) -> str:
    """An earlier turn as the model sees it again: an answer carries the SQL behind it (a follow-up builds on it)."""
    sql = turn.get("sql") if turn["role"] == "assistant" else None
    if not sql:
        return turn["content"]
    sql = sql if len(sql) <= HISTORY_SQL_CHARS else sql[: HISTORY_SQL_CHARS - 1] + "…"
    return f"{turn['content']}\n(The SQL behind this answer: {sql})"


class RunConversationStore(ConversationStore):
    """The run's conversation as vanna sees it: the earlier turns (loaded by the service) plus this one."""

    async def create_conversation(self, conversation_id: str, user: User, initial_message: str) -> Conversation:
        return Conversation(
            id=conversation_id, user=user, messages=[VannaMessage(role="user", content=initial_message)]
        )

    async def get_conversation(self, conversation_id: str, user: User) -> Conversation | None:
        run = current_run.get()
        history = [VannaMessage(role=m["role"], content=turn_text(m)) for m in run.history]
        return Conversation(id=conversation_id, user=user, messages=history)

    async def update_conversation(self, conversation: Conversation) -> None:
        return None  # stored once per turn by agent.services.chat

    async def delete_conversation(self, conversation_id: str, user: User) -> bool:
        return False

    async def list_conversations(self, user: User, limit: int = 50, offset: int = 0) -> list[Conversation]:
        return []


class ModelOnlyWorkflow(WorkflowHandler):
    """Every message goes to the model (vanna's default answers "help" and admin "/" commands itself)."""

    async def try_handle(self, agent, user, conversation, message) -> WorkflowResult:
        return WorkflowResult(should_skip_llm=False)

    async def get_starter_ui(self, agent, user, conversation):
        return None


class CorrectionBudget(LifecycleHook):
    """Ends the run with ``AGENT_GAVE_UP`` once the SQL failed more often than ``agent_sql_retries`` allows, or
    once the tool calls are spent (``agent_max_tool_iterations``) without one query that ran."""

    async def after_tool(self, result):
        run = current_run.get()
        last = run.attempts[-1].error if run.attempts else None
        if run.failures > run.sql_retries:
            raise AgentGaveUp(
                f"No valid query after {run.failures} attempt(s); the last one was refused or failed.",
                details={"attempts": run.failures, "last_error": last},
            )
        if run.tool_calls >= run.max_tool_iterations and not any(a.ok for a in run.attempts):
            raise AgentGaveUp(
                f"Stopped after {run.tool_calls} tool call(s), the configured limit, without a valid query.",
                details={"attempts": len(run.attempts), "last_error": last},
            )
        return None


class MajedAgent(Agent):
    async def send_message(self, request_context, message, *, conversation_id=None):
        async for component in self._send_message(request_context, message, conversation_id=conversation_id):
            yield component

    async def _handle_streaming_response(self, request: LlmRequest) -> LlmResponse:
        run = current_run.get()
        for middleware in self.llm_middlewares:
            request = await middleware.before_llm_request(request)
        content, calls, metadata = [], [], {}
        started = time.perf_counter()
        try:
            async for chunk in self.llm_service.stream_request(request):
                if chunk.content:
                    self._say(run, chunk.content, first=not content)
                    content.append(chunk.content)
                if chunk.tool_calls:
                    calls.extend(chunk.tool_calls)
                if chunk.metadata:
                    metadata = chunk.metadata
        finally:
            self._record(run, started, metadata)
        response = self._last_word(run, LlmResponse(content="".join(content) or None, tool_calls=calls or None))
        for middleware in self.llm_middlewares:
            response = await middleware.after_llm_response(request, response)
        return response

    async def _send_llm_request(self, request: LlmRequest) -> LlmResponse:
        run = current_run.get()
        started = time.perf_counter()
        response = None
        try:
            response = await super()._send_llm_request(request)
        finally:
            self._record(run, started, (response.metadata if response is not None else None) or {})
        response = self._last_word(run, response)
        if response.content:
            self._say(run, response.content, first=True)
        return response

    @staticmethod
    def _say(run: Run, text: str, *, first: bool) -> None:
        """A text delta to the run; the first one of a model call after text of an earlier call starts a new
        paragraph (what the model said before a tool call and its answer after it are two paragraphs)."""
        if first and run.text_parts and not run.text_parts[-1].endswith("\n"):
            run.text_parts.append("\n\n")
            run.emit(events.text("\n\n"))
        run.text_parts.append(text)
        run.emit(events.text(text))

    @staticmethod
    def _last_word(run: Run, response: LlmResponse) -> LlmResponse:
        """Once the tool calls are spent, the model's answer is its last word: tool calls in it are dropped,
        which ends vanna's loop (it was told, in the last tool result, to answer)."""
        if run.tool_calls >= run.max_tool_iterations and response.tool_calls:
            return response.model_copy(update={"tool_calls": None})
        return response

    @staticmethod
    def _record(run: Run, started: float, metadata: dict) -> None:
        run.llm_ms += (time.perf_counter() - started) * 1000
        run.llm_calls += 1
        run.provider = metadata.get("provider") or run.provider
        run.model = metadata.get("model") or run.model
        run.llm_retries += int(metadata.get("retries") or 0)
        run.add_usage(metadata.get("usage"))


def build_agent(llm_service, run: Run) -> MajedAgent:
    """An agent for one run (cheap: the SDK clients and their pools behind ``llm_service`` are shared)."""
    return MajedAgent(
        llm_service=llm_service,
        tool_registry=tool_registry(),
        user_resolver=PrincipalResolver(),
        agent_memory=RunAgentMemory(),
        conversation_store=RunConversationStore(),
        config=AgentConfig(
            # vanna counts model answers with tool calls and stops before a last answer; the registry counts
            # the calls themselves (``RunToolRegistry``): one more round lets the model answer after the last
            max_tool_iterations=run.max_tool_iterations + 1,
            stream_responses=True,
            temperature=0.0,
            include_thinking_indicators=False,
        ),
        system_prompt_builder=RulesPromptBuilder(),
        llm_context_enhancer=ContextEnhancer(),
        workflow_handler=ModelOnlyWorkflow(),
        lifecycle_hooks=[CorrectionBudget()],
    )


async def run_with_llm(llm_service, run: Run) -> None:
    """Drive the agent for ``run`` (its events go to ``run.emit``); raises the contract's errors."""
    agent = build_agent(llm_service, run)
    async for _component in agent.send_message(
        RequestContext(metadata={}), run.question, conversation_id=run.conversation_id
    ):
        pass  # vanna's UI components: the run's own events already went out
