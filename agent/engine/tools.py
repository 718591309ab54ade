"""The tools the model may call, on vanna's ``Tool`` protocol, and the registry that offers them per caller.

``run_sql`` (contract: one string argument ``sql``) is the only way the model reaches data: the statement
goes through ``agent.services.queries.data_source_query`` (the gate, a dry-run ``EXPLAIN``, then the read-only
run). Nothing is written to disk (vanna's ``RunSqlTool`` writes a CSV per query). A refusal or an error goes
back to the model with its reason so that it can correct the query (``agent.engine.loop`` stops the run
after ``agent_sql_retries`` corrections). The data source being down (or its breaker open) ends the run at
once: ``Run.fatal``, raised by the registry after the call.

Access: vanna's ``ToolRegistry`` grants a tool when the caller's groups meet the tool's ``access_groups``;
a caller's groups are its contract permissions (``agent.engine.loop.vanna_user``). ``RunToolRegistry`` adds
what vanna's lacks: each tool call counts against ``agent_max_tool_iterations`` (vanna counts model answers,
and one answer may hold several calls), a call past the limit never runs, a bad call (unknown tool, missing
or malformed ``sql``) goes back to the model in one plain sentence it can act on.

The tools registry (issue 16; ``agent.selectors.tool_settings``): a tool an administrator disabled, or whose
roles leave out the caller's role, is neither offered to the model (``RunToolRegistry``'s permission check,
asked per request, so a change made in another process applies from the next model call) nor listed by
``GET agent/tools`` (``tools_for`` / ``atools_for``). Every ``run_sql`` call, from the model or the offline
answerer, is logged (``agent.services.tool_calls``: who, arguments redacted, duration, outcome).
"""

import logging
import time
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from vanna.core.registry import ToolRegistry
from vanna.core.tool import Tool, ToolCall, ToolContext, ToolResult

from agent import selectors
from agent.sql.runners import SourceUnavailable
from agent.sql.types import QueryResult, SqlError, SqlRefused, SqlTimeout
from majed_vanna.api.permissions import principal_permissions
from majed_vanna.circuit_breakers import OPEN, get_breaker
from majed_vanna.exceptions import ServiceUnavailableError

from . import charts, events
from .lineage import saved_match
from .metrics import metric_for_sql
from .run import SqlAttempt, current_run

logger = logging.getLogger(__name__)

MAX_SQL_CHARS = 20_000
LLM_RESULT_ROWS = 20
LLM_RESULT_CHARS = 4_000


class RunSqlArgs(BaseModel):
    sql: str = Field(
        description="One read-only SELECT statement (or set operation) in the data source's SQL dialect",
        min_length=1,
        max_length=MAX_SQL_CHARS,
    )


def result_for_llm(result: QueryResult) -> str:
    """The first rows as compact text (bounded), with the row count: what the model needs to answer."""
    lines = [" | ".join(result.columns)]
    for row in result.rows[:LLM_RESULT_ROWS]:
        lines.append(" | ".join("NULL" if v is None else str(v) for v in row))
    text = "\n".join(lines)
    if len(text) > LLM_RESULT_CHARS:
        text = text[: LLM_RESULT_CHARS - 1] + "…"
    shown = min(len(result.rows), LLM_RESULT_ROWS)
    more = f" (first {shown} shown)" if result.row_count > shown else ""
    cut = "; the result was truncated at the data source's cap" if result.truncated else ""
    return f"{result.row_count} row(s){more}{cut}. The user already sees the full table.\n{text}"


class RunSqlTool(Tool[RunSqlArgs]):
    name = "run_sql"
    description = (
        "Run one read-only SQL SELECT against the user's data source and get the rows back. "
        "Use only the tables and columns given in the schema. If the query is refused or fails, "
        "read the reason, fix the query and call run_sql again."
    )
    access_groups = ["use_chat"]

    def get_args_schema(self) -> type[RunSqlArgs]:
        return RunSqlArgs

    async def execute(self, context: ToolContext, args: RunSqlArgs) -> ToolResult:
        from agent.services.queries import data_source_query  # the services import the engine's events

        run = current_run.get()
        statement = args.sql.strip()
        run.tools_used.append(self.name)
        run.emit(events.tool_start(self.name, {"sql": statement}))
        run.emit(events.sql(statement))
        started = time.perf_counter()
        try:
            result = await data_source_query(
                source=run.data_source, sql=statement, principal=run.principal, dry_run=True
            )
        except (SourceUnavailable, ServiceUnavailableError) as exc:  # down, or its breaker open
            elapsed = (time.perf_counter() - started) * 1000
            run.sql_ms += elapsed
            down = source_down(run.data_source, exc)
            body = events.error_body(down.code, down.message, down.details)
            run.attempts.append(SqlAttempt(statement, False, elapsed, body))
            run.emit(events.tool_end(self.name, False, elapsed, body))
            run.fatal = down  # no correction can help: the registry ends the run after this call
            await _logged(run, statement, elapsed, down.code)
            return ToolResult(success=False, result_for_llm=down.message, error=down.message)
        except (SqlRefused, SqlTimeout, SqlError) as exc:
            elapsed = (time.perf_counter() - started) * 1000
            run.sql_ms += elapsed
            body = events.error_body(exc.code, exc.message, exc.details)
            run.attempts.append(SqlAttempt(statement, False, elapsed, body))
            run.emit(events.tool_end(self.name, False, elapsed, body))
            await _logged(run, statement, elapsed, exc.code)
            rule = f" (rule: {exc.details['rule']})" if isinstance(exc.details, dict) and "rule" in exc.details else ""
            message = f"{exc.code}{rule}: {exc.message}. Correct the SQL and call run_sql again."
            return ToolResult(success=False, result_for_llm=message, error=message, metadata={"error": body})
        elapsed = (time.perf_counter() - started) * 1000
        run.sql_ms += elapsed
        run.attempts.append(SqlAttempt(statement, True, elapsed))
        run.matched = run.matched or saved_match(run, statement)
        run.metric = run.metric or await metric_for_sql(run, statement, result.checked)
        run.sql = result.checked.sql if result.checked else statement
        run.tables = sorted(set(run.tables) | set(result.checked.tables if result.checked else ()))
        run.row_count, run.truncated = result.row_count, result.truncated
        run.emit(events.table(result.columns, result.rows, result.row_count, result.truncated))
        spec = charts.chart_for(result.columns, result.rows)
        if spec is not None:
            run.emit(events.chart(spec))
        run.emit(events.tool_end(self.name, True, elapsed))
        await _logged(run, statement, elapsed)
        return ToolResult(success=True, result_for_llm=result_for_llm(result))


async def _logged(run, statement: str, elapsed_ms: float, error_code: str = "") -> None:
    """One ``run_sql`` call in the tool-call log (never fails the call)."""
    from agent.services.tool_calls import atool_call_record

    await atool_call_record(
        principal=run.principal,
        tool=RunSqlTool.name,
        args={"sql": statement},
        duration_ms=elapsed_ms,
        success=not error_code,
        error_code=error_code,
        conversation_id=run.conversation_id,
        data_source_id=run.data_source.pk if run.data_source is not None else None,
    )


def source_down(source, exc: Exception) -> SourceUnavailable:
    """The data source cannot answer (``SourceUnavailable``, or its breaker open): one clear error, naming the
    source but never its URL or the breaker's internals."""
    logger.warning("Data source %s unavailable for a chat: %s", source.name, getattr(exc, "message", type(exc)))
    retry_after = (getattr(exc, "headers", None) or {}).get("Retry-After")
    return SourceUnavailable(
        f"The data source {source.name!r} cannot be reached right now.",
        details={"data_source": source.name, **({"retry_after": int(retry_after)} if retry_after else {})},
    )


async def source_ready(run) -> None:
    """Before the model is asked: the data source's schema (read once, then kept with the source), and its
    state. A source that is down, or whose breaker is open, is the run's error at once: no model call is spent
    on a question that cannot be answered."""
    from agent.services.source_probes import data_source_schema

    breaker = get_breaker(f"data_source:{run.data_source.pk}")  # agent.sql.runners.breaker_for's name
    status = await breaker.astatus()
    if status.state == OPEN:
        raise source_down(run.data_source, ServiceUnavailableError(retry_after=status.retry_after))
    if run.schema is None:
        try:
            run.schema = (await data_source_schema(source=run.data_source))["schema"]
        except (SourceUnavailable, ServiceUnavailableError) as exc:
            raise source_down(run.data_source, exc) from None


TOOLS: tuple[Tool[Any], ...] = (RunSqlTool(),)
LIMIT_REACHED = "No more tool calls are allowed for this question ({limit} used). Answer with what you have."
LAST_CALL = " That was the last tool call allowed for this question: answer now with what you have."


def _refusal(message: str) -> ToolResult:
    return ToolResult(success=False, result_for_llm=message, error=message)


def _arguments_problem(tool: Tool[Any], arguments: dict) -> str | None:
    """What is wrong with a call's arguments, in one sentence the model can act on (``None``: nothing)."""
    try:
        tool.get_args_schema().model_validate(arguments)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'arguments'}: {error['msg']}" for error in exc.errors()[:5]
        )
        expected = ", ".join(tool.get_args_schema().model_fields)
        return f"Invalid arguments for {tool.name} ({problems}). Call it with: {expected}."
    return None


class RunToolRegistry(ToolRegistry):
    """vanna's registry, with the run's tool-call budget, plain answers to bad calls and the tools registry's
    settings (module docstring)."""

    async def _validate_tool_permissions(self, tool: Tool[Any], user) -> bool:
        """vanna's group check, then the registry's: enabled, and offered to the run's caller's role. vanna asks
        this for the schemas of every model request and again before a call runs."""
        if not await super()._validate_tool_permissions(tool, user):
            return False
        settings = await selectors.atool_settings()
        return selectors.tool_allowed(current_run.get().principal, tool.name, settings)

    async def execute(self, tool_call: ToolCall, context: ToolContext) -> ToolResult:
        run = current_run.get()
        if run.tool_calls >= run.max_tool_iterations:
            return _refusal(LIMIT_REACHED.format(limit=run.max_tool_iterations))
        run.tool_calls += 1
        tool = await self.get_tool(tool_call.name)
        if tool is None or not await self._validate_tool_permissions(tool, context.user):
            offered = ", ".join(s.name for s in await self.get_schemas(context.user)) or "none"
            result = _refusal(f"There is no tool named {str(tool_call.name)[:64]!r}. The tools are: {offered}.")
        elif problem := _arguments_problem(tool, tool_call.arguments):
            result = _refusal(problem)
        else:
            run.tools_used.append(tool.name)
            result = await super().execute(tool_call, context)
        if run.fatal is not None:
            raise run.fatal
        if run.tool_calls >= run.max_tool_iterations:
            if result.success:
                result.result_for_llm += LAST_CALL
            else:
                result.error = (result.error or result.result_for_llm) + LAST_CALL
        return result


def tool_registry() -> ToolRegistry:
    """A registry with every tool (each carries its ``access_groups``); cheap, built per agent."""
    registry = RunToolRegistry()
    for tool in TOOLS:
        registry.register_local_tool(tool, access_groups=list(tool.access_groups))
    return registry


def _listing(principal, settings: dict[str, dict]) -> list[dict[str, Any]]:
    granted = set(principal_permissions(principal))
    listed = []
    for tool in TOOLS:
        needed = list(tool.access_groups)
        if needed and not granted & set(needed):
            continue
        if not selectors.tool_allowed(principal, tool.name, settings):
            continue
        schema = tool.get_schema()
        listed.append(
            {
                "tool_id": tool.name,
                "name": tool.name,
                "description": tool.description,
                "category": getattr(tool, "category", "data"),
                "permissions_required": needed,
                "parameters": schema.parameters,
            }
        )
    return listed


def tools_for(principal, settings: dict[str, dict] | None = None) -> list[dict[str, Any]]:
    """``GET agent/tools``: the tools ``principal`` may use (contract shape): its permissions meet the tool's,
    and the registry's settings (``settings``, default the current ones) enable the tool for its role.
    Synchronous code; a coroutine awaits ``atools_for``."""
    return _listing(principal, settings if settings is not None else selectors.tool_settings())


async def atools_for(principal) -> list[dict[str, Any]]:
    """``tools_for`` from a coroutine (the settings reloaded off the event loop when stale)."""
    return _listing(principal, await selectors.atool_settings())
