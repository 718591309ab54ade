"""Finding the saved questions closest to a question.

``rank(question, candidates)`` scores each candidate ``{"id", "question", "sql"}`` in [0, 1] and returns them
best first. This first version scores word overlap (Dice coefficient over normalised words); it is the seam
the retrieval backends plug into.
"""

import re
from typing import Any

_WORD = re.compile(r"[a-z0-9]+")
STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "for",
        "to",
        "by",
        "and",
        "or",
        "is",
        "are",
        "was",
        "were",
        "be",
        "what",
        "which",
        "who",
        "how",
        "many",
        "much",
        "show",
        "me",
        "list",
        "give",
        "get",
        "all",
        "each",
        "per",
        "with",
        "from",
        "at",
        "do",
        "does",
        "did",
        "i",
        "we",
        "our",
        "my",
        "please",
    ]
)


def words(text: str) -> set[str]:
    found = {w for w in _WORD.findall(text.lower()) if w not in STOP}
    return {w[:-1] if w.endswith("s") and len(w) > 3 else w for w in found}


def rank(question: str, candidates: list[dict[str, Any]], *, limit: int = 5) -> list[dict[str, Any]]:
    asked = words(question)
    scored = []
    for candidate in candidates:
        theirs = words(candidate["question"])
        if not asked or not theirs:
            continue
        score = 2 * len(asked & theirs) / (len(asked) + len(theirs))
        if score > 0:
            scored.append({**candidate, "score": round(score, 3)})
    scored.sort(key=lambda c: (-c["score"], c["question"]))
    return scored[:limit]
