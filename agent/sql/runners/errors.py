"""How a runner reports failures: safe messages only (no driver text beyond a one-line reason about the
query itself, no host, no path, no stack).

``SourceUnavailable`` is the data source's failure (unreachable, refusing logins, out of resources): only
these count towards the data source's circuit breaker. A query's own fault (a syntax error, a timeout, a
refusal) does not: one person's slow query must not shut the data source for everyone.
"""

from agent.sql.types import SqlError, SqlRefused

ENGINE_GUARD = "engine_guard"
COST = "cost"
MAX_REASON_CHARS = 200


class SourceUnavailable(SqlError):
    status_code, default_message = 503, "The data source cannot be reached right now"


def engine_refusal(message: str) -> SqlRefused:
    return SqlRefused(ENGINE_GUARD, message)


def reason(text: str | None) -> str:
    """One line of a driver's message about the query (``no such column: x``), bounded."""
    line = " ".join(str(text or "").split())
    return line if len(line) <= MAX_REASON_CHARS else line[: MAX_REASON_CHARS - 1] + "…"


def query_error(text: str | None) -> SqlError:
    detail = reason(text)
    return SqlError(f"The data source could not run the query: {detail}" if detail else None)
