"""The lineage of an answer (contract §5: ``lineage``) and its confidence tier, computed from evidence only.

Confidence (no self-grading by the model):

* ``high``: the SQL came from an approved saved question matched closely (offline, or the model ran a saved
  example's SQL as it is: ``saved_match``), or from a defined metric, ran at the first try and returned rows;
* ``medium``: SQL written for this question ran at the first try and returned rows;
* ``low``: anything weaker: corrections were needed, the result is empty or truncated, or no SQL ran at all.

``reasons`` lists every piece of evidence that was weighed, in plain words.
"""

import re
from typing import Any

from .run import Run

HIGH, MEDIUM, LOW = "high", "medium", "low"
_SPACE = re.compile(r"\s+")


def _normal(sql: str) -> str:
    return _SPACE.sub(" ", sql).strip().rstrip(";").strip().lower()


def saved_match(run: Run, sql: str) -> dict | None:
    """The saved example (``Run.examples``) whose SQL ``sql`` is, when its question matched closely (the offline
    answerer's ``MATCH_THRESHOLD``): as good as the offline answer from that saved question."""
    from .offline import MATCH_THRESHOLD

    statement = _normal(sql)
    for example in run.examples:
        if example.get("score", 0) >= MATCH_THRESHOLD and _normal(example.get("sql") or "") == statement:
            return {"memory_id": str(example["id"]), "question": example["question"], "score": example["score"]}
    return None


def confidence(run: Run) -> dict[str, Any]:
    reasons: list[str] = []
    ran = bool(run.sql) and run.row_count is not None
    if not ran:
        return {"tier": LOW, "reasons": ["no SQL ran: the answer is not backed by data"]}
    grounded = False
    if run.matched:
        grounded = True
        score = run.matched.get("score")
        reasons.append(
            f'matched the saved question "{run.matched.get("question", "")}"'
            + (f" (similarity {score:.2f})" if isinstance(score, int | float) else "")
        )
    if run.metric:
        grounded = True
        reasons.append(f'used the defined metric "{run.metric}"')
    if run.memories and not run.matched:
        reasons.append(f"{len(run.memories)} saved example(s) guided the SQL")
    weak = False
    if run.failures:
        weak = True
        reasons.append(f"the SQL needed {run.failures} correction(s)")
    else:
        reasons.append("the SQL ran at the first try")
    if run.row_count == 0:
        weak = True
        reasons.append("the result is empty")
    if run.truncated:
        weak = True
        reasons.append("the result was truncated at the row or size cap")
    if not grounded and not weak:
        reasons.append("the SQL was written for this question (no saved question or metric matched)")
    tier = LOW if weak else HIGH if grounded else MEDIUM
    return {"tier": tier, "reasons": reasons}


def lineage(run: Run) -> dict[str, Any]:
    return {
        "sql": run.sql or None,
        "tables": list(run.tables),
        "data_source": {"id": str(run.data_source.pk), "name": run.data_source.name} if run.data_source else None,
        "memories": list(run.memories),
        "semantic": list(run.semantic),
        "row_count": run.row_count,
        "truncated": run.truncated,
        "retries": run.failures,
        "llm_retries": run.llm_retries,
        "attempts": [
            {
                "sql": a.sql,
                "ok": a.ok,
                "duration_ms": round(a.duration_ms, 1),
                **({"error": a.error} if a.error else {}),
            }
            for a in run.attempts
        ],
        "matched_question": run.matched,
        "metric": run.metric,
        "timings_ms": {
            "llm": round(run.llm_ms, 1),
            "sql": round(run.sql_ms, 1),
            "total": round(run.elapsed_ms(), 1),
        },
        "provider": run.provider or None,
        "model": run.model or None,
        "llm_calls": run.llm_calls,
        "usage": dict(run.usage),
        "confidence": confidence(run),
    }
