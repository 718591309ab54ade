"""Ranking semantic-layer entries for a question (``GET agent/semantic/search``, the prompt's semantic context).

A small BM25 (Robertson/Spärck Jones, k1 = 1.2, b = 0.75) over each entry's words, with light stemming (plural
endings) and field weights: an entry's name and synonyms count ``NAME_WEIGHT`` times, its description,
definition, expression, table and sample values once. No dependency, no index kept on disk: the entries of
one data source are few enough (thousands) to index per call.
"""

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

K1, B = 1.2, 0.75
NAME_WEIGHT = 3
_WORD = re.compile(r"[a-z0-9]+")
_STOP_WORDS = (
    "a an the of in on for to by and or is are was were be been what which who whom how many much show me list "
    "give get all each per with from at do does did i we our my please there their this that these those it its "
    "as than then into about tell"
)
STOP = frozenset(_STOP_WORDS.split())


def stem(word: str) -> str:
    """Plural and possessive endings off (``categories`` -> ``category``, ``statuses`` -> ``status``)."""
    if len(word) <= 3:
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "uses")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def terms(text: str) -> list[str]:
    """Lower-cased, stemmed words of ``text`` without stop words (``order_items`` -> ``order``, ``item``)."""
    return [stem(w) for w in _WORD.findall(str(text).lower()) if w not in STOP]


@dataclass(frozen=True)
class Document:
    item: Any  # what a hit returns
    names: Sequence[str]  # name and synonyms (weighted)
    texts: Sequence[str]  # description, definition, expression, table, sample values


@dataclass(frozen=True)
class Hit:
    item: Any
    score: float


class Bm25:
    def __init__(self, documents: Iterable[Document]):
        self.documents = list(documents)
        self.frequencies: list[Counter] = []
        for document in self.documents:
            counts: Counter = Counter()
            for text in document.names:
                for term in terms(text):
                    counts[term] += NAME_WEIGHT
            for text in document.texts:
                counts.update(terms(text))
            self.frequencies.append(counts)
        self.lengths = [sum(c.values()) for c in self.frequencies]
        self.average = (sum(self.lengths) / len(self.lengths)) if self.lengths else 0.0
        self.containing: Counter = Counter()
        for counts in self.frequencies:
            self.containing.update(counts.keys())

    def idf(self, term: str) -> float:
        n, having = len(self.documents), self.containing.get(term, 0)
        return math.log(1 + (n - having + 0.5) / (having + 0.5))

    def search(self, query: str, *, limit: int | None = None, min_score: float = 0.0) -> list[Hit]:
        asked = set(terms(query))
        if not asked or not self.documents:
            return []
        weights = {term: self.idf(term) for term in asked if term in self.containing}
        hits = []
        for document, counts, length in zip(self.documents, self.frequencies, self.lengths, strict=True):
            score = 0.0
            for term, idf in weights.items():
                tf = counts.get(term, 0)
                if tf:
                    norm = K1 * (1 - B + B * length / self.average) if self.average else K1
                    score += idf * tf * (K1 + 1) / (tf + norm)
            if score > min_score:
                hits.append(Hit(document.item, round(score, 4)))
        hits.sort(key=lambda hit: -hit.score)
        return hits if limit is None else hits[:limit]
