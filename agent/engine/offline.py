"""The answerer without an LLM (contract §5 "offline mode"). It never pretends to be a model:

1. a message that is itself SQL runs through the read-only gate (the ``run_sql`` path, no correction);
2. a message that names a defined metric of the semantic layer (``agent.engine.metrics.metric_named``: its name
   or a synonym, over a table the caller's role may see) runs the metric's statement, built from the stored
   entry and checked by the gate like any SQL, and says which metric it used (lineage ``metric``);
3. a message close to a usable saved question (score at least ``MATCH_THRESHOLD``) runs that question's saved
   SQL and says which question matched and how closely (lineage ``matched_question``, ``memories``);
4. otherwise it says that no LLM is configured and lists the closest saved questions and the tables it knows.

Saved questions are found by ``agent.knowledge.memory.saved_questions_search`` (BM25 with stems and synonyms;
the caller's usable memories only: approved global ones, the caller's own private ones). ``MATCH_THRESHOLD``
was chosen on the held-out paraphrase set (``agent/tests/knowledge/paraphrases.py``, BENCHMARKS.md "Offline
retrieval"): above every unrelated question's best score, below nearly every right paraphrase's.
"""

import logging
import re
from typing import Any

from sqlglot import exp
from vanna.core.tool import ToolContext

from agent.sql import gate
from agent.sql.types import SqlRefused
from majed_vanna.blocking import run_blocking

from . import events
from .run import Run
from .tools import RunSqlArgs, RunSqlTool

logger = logging.getLogger(__name__)

MATCH_THRESHOLD = 0.6
SUGGESTIONS = 3
EXAMPLES = 3
_SQL_START = re.compile(
    r"^\s*(\(\s*)*(select|with|values|insert|update|delete|merge|drop|create|alter|truncate|attach|detach|pragma"
    r"|vacuum|replace|grant|revoke|copy)\b",
    re.IGNORECASE,
)
_SQL_SIGNS = re.compile(r"[*=<>();]")


def _reads_as_sql(message: str, engine: str) -> bool:
    try:
        tree = gate.parse_statement(message, engine)
    except SqlRefused:
        return False
    return not isinstance(tree, exp.Command)  # sqlglot's fallback for text it cannot read ("Drop the ...")


async def looks_like_sql(message: str, engine: str = "sqlite") -> bool:
    """A message starting with an SQL keyword that reads as one statement, or has SQL's signs (``*``, ``=``,
    brackets): "Select the top customers by spend" is a question; "SELECT * FRM customers" is SQL with a typo,
    and "DELETE FROM orders" SQL that the gate refuses."""
    if not _SQL_START.match(message):
        return False
    return bool(_SQL_SIGNS.search(message)) or await run_blocking(_reads_as_sql, message, engine)


async def _search(run: Run, limit: int) -> list[dict[str, Any]]:
    from agent.knowledge.memory import saved_questions_search
    from agent.services.chat import orm

    return await orm(saved_questions_search, run.principal, run.data_source, run.question, limit=limit)


async def examples_for(run: Run) -> list[dict[str, Any]]:
    """Usable saved questions close to the run's question (for the prompt and the lineage)."""
    found = await _search(run, EXAMPLES)
    run.memories = [str(c["id"]) for c in found]
    return found


async def _run_sql(run: Run, sql: str) -> bool:
    context = ToolContext.model_construct(
        user=None, conversation_id=run.conversation_id, request_id="", agent_memory=None
    )
    result = await RunSqlTool().execute(context, RunSqlArgs(sql=sql))
    run.tools_used.append("run_sql")
    return result.success


async def _passthrough(run: Run) -> None:
    run.emit(events.text("No LLM is configured; running your SQL through the read-only gate."))
    if not await _run_sql(run, run.question):
        last = run.attempts[-1].error or {}
        run.failure = last
        run.emit({"type": events.ERROR, "error": last})


async def _answer_saved(run: Run, best: dict[str, Any]) -> None:
    from agent.knowledge.memory import memory_mark_used
    from agent.services.chat import orm

    run.matched = {"memory_id": str(best["id"]), "question": best["question"], "score": best["score"]}
    run.memories = [str(best["id"])]
    run.emit(
        events.text(
            f'No LLM is configured. Your question matches the saved question "{best["question"]}" '
            f"(similarity {best['score']:.2f} of 1); here is its saved SQL and its result."
        )
    )
    if await _run_sql(run, best["sql"]):
        await orm(memory_mark_used, best["id"])
    else:  # a saved query that no longer runs (schema drift): say so, as the passthrough does
        run.failure = run.attempts[-1].error or {}
        run.emit({"type": events.ERROR, "error": run.failure})


async def _answer_metric(run: Run, metric: dict[str, Any]) -> None:
    run.metric = metric["name"]
    about = f" ({metric['description']})" if metric["description"] else ""
    run.emit(
        events.text(
            f'No LLM is configured. Your question names the defined metric "{metric["name"]}"{about}; '
            "here is its SQL and its result."
        )
    )
    if not await _run_sql(run, metric["sql"]):  # a metric whose table or columns drifted away
        run.failure = run.attempts[-1].error or {}
        run.emit({"type": events.ERROR, "error": run.failure})


async def _known_tables(run: Run) -> str:
    from .prompt import visible_schema

    if run.schema is None and run.data_source is not None:
        from agent.services.source_probes import data_source_schema

        try:
            run.schema = (await data_source_schema(source=run.data_source))["schema"]
        except Exception:  # the source is down or unreadable: the answer still says what it can
            logger.warning("Offline answer: the schema of %s could not be read", run.data_source.name, exc_info=True)
            run.schema = {}
    shown = await visible_schema(run)
    return ", ".join(t["name"] for t in (shown or {}).get("tables", [])) or "none found"


async def _no_match(run: Run, found: list[dict[str, Any]]) -> None:
    tables = await _known_tables(run)
    lines = ["No LLM is configured and no saved question matches closely enough, so I cannot answer this."]
    if found:
        closest = "; ".join(f'"{c["question"]}" ({c["score"]:.2f})' for c in found)
        lines.append(f"Closest saved questions (similarity of 1): {closest}.")
    else:
        lines.append("No saved question shares words with yours.")
    lines.append(f"Tables I know: {tables}. You can also send a SELECT statement, which runs read-only.")
    run.emit(events.text(" ".join(lines)))


async def answer(run: Run) -> None:
    engine = getattr(run.data_source, "engine", "sqlite")
    if await looks_like_sql(run.question, engine):
        await _passthrough(run)
        return
    from agent.services.chat import orm

    from .metrics import metric_named

    metric = await orm(metric_named, run.data_source, getattr(run.principal, "role", None), run.question)
    if metric is not None:
        await _answer_metric(run, metric)
        return
    found = await _search(run, SUGGESTIONS)
    best = found[0] if found else None
    if best is not None and best["score"] >= MATCH_THRESHOLD:
        await _answer_saved(run, best)
        return
    await _no_match(run, found)
