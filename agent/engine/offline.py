"""The answerer without an LLM (contract §5 "offline mode"). It never pretends to be a model:

1. a message that is itself SQL runs through the read-only gate (the ``run_sql`` path, no correction);
2. a message close to an approved saved question (``MATCH_THRESHOLD``) runs that question's saved SQL and says
   which question matched and how closely;
3. otherwise it says that no LLM is configured and lists the closest saved questions and the tables it knows.
"""

import re
from typing import Any

from vanna.core.tool import ToolContext

from agent.knowledge import retrieval

from . import events
from .run import Run
from .tools import RunSqlArgs, RunSqlTool

MATCH_THRESHOLD = 0.6
SUGGESTIONS = 3
_SQL_START = re.compile(r"^\s*(\(\s*)*(select|with)\b", re.IGNORECASE)


def looks_like_sql(message: str) -> bool:
    return bool(_SQL_START.match(message))


def _saved_questions(run: Run) -> list[dict[str, Any]]:
    from agent import selectors

    return selectors.saved_questions(run.principal, run.data_source)


async def examples_for(run: Run) -> list[dict[str, Any]]:
    """Approved saved questions close to the run's question (for the prompt and the lineage)."""
    from agent.services.chat import orm

    candidates = await orm(_saved_questions, run)
    found = retrieval.rank(run.question, candidates, limit=3)
    run.memories = [str(c["id"]) for c in found]
    return found


async def _run_sql(run: Run, sql: str) -> bool:
    context = ToolContext.model_construct(
        user=None, conversation_id=run.conversation_id, request_id="", agent_memory=None
    )
    result = await RunSqlTool().execute(context, RunSqlArgs(sql=sql))
    run.tools_used.append("run_sql")
    return result.success


async def answer(run: Run) -> None:
    if looks_like_sql(run.question):
        run.emit(events.text("No LLM is configured; running your SQL through the read-only gate."))
        if not await _run_sql(run, run.question):
            last = run.attempts[-1].error or {}
            run.failure = last
            run.emit({"type": events.ERROR, "error": last})
        return
    from agent.services.chat import orm

    candidates = await orm(_saved_questions, run)
    found = retrieval.rank(run.question, candidates, limit=SUGGESTIONS)
    best = found[0] if found else None
    if best is not None and best["score"] >= MATCH_THRESHOLD:
        run.matched = {"memory_id": str(best["id"]), "question": best["question"], "score": best["score"]}
        run.memories = [str(best["id"])]
        run.emit(
            events.text(
                f'No LLM is configured. Your question matches the saved question "{best["question"]}" '
                f"(similarity {best['score']:.2f}); here is its saved SQL and result."
            )
        )
        await _run_sql(run, best["sql"])
        return
    tables = ", ".join(t["name"] for t in (run.schema or {}).get("tables", [])) or "none found"
    lines = ["No LLM is configured and no saved question matches closely enough, so I cannot answer this."]
    if found:
        lines.append("Closest saved questions: " + "; ".join(f'"{c["question"]}"' for c in found) + ".")
    lines.append(f"Tables I know: {tables}. You can also send a SELECT statement, which runs read-only.")
    run.emit(events.text(" ".join(lines)))
