"""Ranking semantic-layer entries for a question (``GET agent/semantic/search``, the prompt's semantic context).

A small BM25 (Robertson/Spärck Jones, k1 = 1.2, b = 0.75) over each entry's words, with light stemming (plural
endings) and field weights: an entry's name and synonyms count ``NAME_WEIGHT`` times, its description,
definition, expression, table and sample values once. No dependency; ``agent.knowledge.semantic`` keeps the
index of each data source in memory until its entries change.
"""

import heapq
import math
import re
from collections import Counter, defaultdict
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
    """An inverted index: a search costs the postings of the question's words, not a pass over every entry.
    Each posting keeps its document's term weight, ``tf (k1 + 1) / (tf + k1 (1 - b + b len / avglen))``, so a
    search only multiplies by the word's idf and adds."""

    def __init__(self, documents: Iterable[Document]):
        self.documents = list(documents)
        counted: list[Counter] = []
        for document in self.documents:
            counts: Counter = Counter()
            for text in document.names:
                for term in terms(text):
                    counts[term] += NAME_WEIGHT
            for text in document.texts:
                counts.update(terms(text))
            counted.append(counts)
        lengths = [sum(counts.values()) for counts in counted]
        average = (sum(lengths) / len(lengths)) if lengths else 0.0
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for number, (counts, length) in enumerate(zip(counted, lengths, strict=True)):
            norm = K1 * (1 - B + B * length / average) if average else K1
            for term, frequency in counts.items():
                self.postings[term].append((number, frequency * (K1 + 1) / (frequency + norm)))

    def idf(self, term: str) -> float:
        n, having = len(self.documents), len(self.postings.get(term, ()))
        return math.log(1 + (n - having + 0.5) / (having + 0.5))

    def search(self, query: str, *, limit: int | None = None, min_score: float = 0.0) -> list[Hit]:
        """Documents sharing a word with ``query``, best first (ties: in the order they were given)."""
        scores: dict[int, float] = defaultdict(float)
        for term in set(terms(query)):
            posting = self.postings.get(term)
            if not posting:
                continue
            idf = self.idf(term)
            for number, weight in posting:
                scores[number] += idf * weight
        candidates = [number for number, score in scores.items() if score > min_score]
        order = lambda number: (-scores[number], number)  # noqa: E731
        ranked = sorted(candidates, key=order) if limit is None else heapq.nsmallest(limit, candidates, key=order)
        return [Hit(self.documents[number].item, round(scores[number], 4)) for number in ranked]
