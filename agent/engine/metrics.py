"""Defined metrics in answers (contract §5 "Knowledge" → semantic layer: "a question that names a defined metric
is answered from the metric's expression").

* ``metric_named``: the metric a question names (its name, ``_`` read as a space, or one of its synonyms, as a
  run of whole words after stemming; the longest name wins), among the metrics of the data source over tables
  the caller's role may see. The offline answerer runs its statement, built from the stored entry
  (``agent.selectors.metric_sql``), never from model output; the gate still checks it.
* ``metric_for_sql``: after the model's SQL ran, the metric whose statement it is (the lineage's ``metric``).
"""

import re
from typing import Any

from agent.knowledge.stemmer import stem

_WORD = re.compile(r"[a-z0-9]+")
_SPACE = re.compile(r"\s+")


def _stems(text: str) -> tuple[str, ...]:
    return tuple(stem(word) for word in _WORD.findall(text.lower().replace("_", " ")))


def _contains(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    size = len(phrase)
    return bool(size) and any(words[i : i + size] == phrase for i in range(len(words) - size + 1))


def _normal(sql: str) -> str:
    return _SPACE.sub(" ", sql).strip().rstrip(";").strip().lower()


def metrics_usable(source, role: str | None) -> list[dict[str, Any]]:
    """The metrics of ``source`` whose table ``role`` may see, each with the statement it stands for
    (``sql``: ``""`` when a stored part no longer reads as SQL)."""
    from agent import selectors
    from agent.knowledge.semantic import metric_sql
    from agent.models import SemanticMetric

    if source is None:
        return []
    visible = selectors.semantic_visible_tables(source, role)
    allowed = None if visible is None else {name.lower() for name in visible}
    found = []
    for metric in SemanticMetric.objects.filter(data_source=source).order_by("name", "id"):
        if allowed is not None and metric.table.lower() not in allowed:
            continue
        found.append(
            {
                "id": str(metric.pk),
                "name": metric.name,
                "description": metric.description,
                "synonyms": list(metric.synonyms or []),
                "sql": metric_sql(metric, source.engine),
            }
        )
    return found


def metric_named(source, role: str | None, question: str) -> dict[str, Any] | None:
    """The usable metric ``question`` names (see the module docstring), or ``None``."""
    words = _stems(question)
    best, best_size = None, 0
    for metric in metrics_usable(source, role):
        if not metric["sql"]:
            continue
        for name in (metric["name"], *metric["synonyms"]):
            phrase = _stems(name)
            if len(phrase) > best_size and _contains(words, phrase):
                best, best_size = metric, len(phrase)
    return best


def _rendered(sql: str, engine: str) -> str:
    """``sql`` as the gate renders it (what ``CheckedSQL.sql`` holds), or ``""``."""
    from agent.sql import gate
    from agent.sql.types import SqlRefused

    try:
        return gate.check(sql, dialect=engine, tables=None).sql
    except SqlRefused:
        return ""


def metric_matching(source, role: str | None, statements: list[str]) -> str | None:
    """The name of the usable metric whose statement is one of ``statements`` (spacing and case aside; as
    written in the prompt, or as the gate renders it)."""
    wanted = {_normal(s) for s in statements if s}
    for metric in metrics_usable(source, role):
        if not metric["sql"]:
            continue
        if _normal(metric["sql"]) in wanted or _normal(_rendered(metric["sql"], source.engine)) in wanted:
            return metric["name"]
    return None


async def metric_for_sql(run, statement: str, checked=None) -> str | None:
    """The metric whose SQL the run's statement is (as written, or as the gate rendered it)."""
    from agent.services.chat import orm

    role = getattr(run.principal, "role", None)
    statements = [statement, checked.sql if checked is not None else ""]
    return await orm(metric_matching, run.data_source, role, statements)
