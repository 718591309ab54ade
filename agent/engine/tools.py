"""The tools the model may call, on vanna's ``Tool`` protocol, and the registry that offers them per caller.

``run_sql`` (contract: one string argument ``sql``) is the only way the model reaches data: the statement
goes through ``agent.services.queries.data_source_query`` (the gate, a dry-run ``EXPLAIN``, then the read-only
run). Nothing is written to disk (vanna's ``RunSqlTool`` writes a CSV per query). A refusal or an error goes
back to the model with its reason so that it can correct the query (``agent.engine.loop`` stops the run
after ``agent_sql_retries`` corrections). The data source being down ends the run at once.

Access: vanna's ``ToolRegistry`` grants a tool when the caller's groups meet the tool's ``access_groups``;
a caller's groups are its contract permissions (``agent.engine.loop.vanna_user``).
"""

import time
from typing import Any

from pydantic import BaseModel, Field
from vanna.core.registry import ToolRegistry
from vanna.core.tool import Tool, ToolContext, ToolResult

from agent.sql.runners import SourceUnavailable
from agent.sql.types import QueryResult, SqlError, SqlRefused, SqlTimeout

from . import charts, events
from .run import SqlAttempt, current_run

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
        except SourceUnavailable:
            run.sql_ms += (time.perf_counter() - started) * 1000
            raise  # the data source is down: no correction can help
        except (SqlRefused, SqlTimeout, SqlError) as exc:
            elapsed = (time.perf_counter() - started) * 1000
            run.sql_ms += elapsed
            body = events.error_body(exc.code, exc.message, exc.details)
            run.attempts.append(SqlAttempt(statement, False, elapsed, body))
            run.emit(events.tool_end(self.name, False, elapsed, body))
            rule = f" (rule: {exc.details['rule']})" if isinstance(exc.details, dict) and "rule" in exc.details else ""
            message = f"{exc.code}{rule}: {exc.message}. Correct the SQL and call run_sql again."
            return ToolResult(success=False, result_for_llm=message, error=message, metadata={"error": body})
        elapsed = (time.perf_counter() - started) * 1000
        run.sql_ms += elapsed
        run.attempts.append(SqlAttempt(statement, True, elapsed))
        run.sql = result.checked.sql if result.checked else statement
        run.tables = sorted(set(run.tables) | set(result.checked.tables if result.checked else ()))
        run.row_count, run.truncated = result.row_count, result.truncated
        run.emit(events.table(result.columns, result.rows, result.row_count, result.truncated))
        spec = charts.chart_for(result.columns, result.rows)
        if spec is not None:
            run.emit(events.chart(spec))
        run.emit(events.tool_end(self.name, True, elapsed))
        return ToolResult(success=True, result_for_llm=result_for_llm(result))


TOOLS: tuple[Tool[Any], ...] = (RunSqlTool(),)


def tool_registry() -> ToolRegistry:
    """A registry with every tool (each carries its ``access_groups``); cheap, built per agent."""
    registry = ToolRegistry()
    for tool in TOOLS:
        registry.register_local_tool(tool, access_groups=list(tool.access_groups))
    return registry


def tools_for(permissions: set[str] | list[str]) -> list[dict[str, Any]]:
    """``GET agent/tools``: the tools a caller with ``permissions`` may use (contract shape)."""
    granted = set(permissions)
    listed = []
    for tool in TOOLS:
        needed = list(tool.access_groups)
        if needed and not granted & set(needed):
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
