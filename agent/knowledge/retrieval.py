"""Finding the saved questions closest to a question: BM25 over stemmed words and synonyms, no extra package.

``rank(question, candidates, limit=5)`` scores each candidate ``{"id", "question", ...}`` in [0, 1] and returns
copies of the best ones with a ``score``, best first. ``Index(candidates)`` does the work once per corpus
(stems, synonyms, document frequencies, per-term BM25 weights in postings lists); ``Index.search`` then costs
only the postings of the question's words. ``rank`` keeps the last few indexes, so repeated searches over the
same candidates do not rebuild one.

The score is comparable across questions, so one threshold decides "close enough" (``agent.engine.offline``):

* ``covered``: the candidate's BM25 score divided by the score a candidate identical to the question would
  get (its self-score), at most 1: how much of the question the candidate answers. A word of the question
  that no saved question uses weighs like the rarest word of the corpus, so "how many suppliers" stays far
  from "how many customers";
* ``answered``: the share of the candidate's own words (weighted by idf) that the question contains: a
  candidate that adds conditions the question did not ask for ("... that were cancelled") scores lower;
* ``score = covered ** 0.6 * answered ** 0.4``, halved when the words shared are only qualifiers ("how many",
  "top", "each month": ``synonyms.QUALIFIERS``), which say how to measure but not what: "How many tables are
  there?" must not run "How many orders are there?";
* halved again when the question names specifics the candidate does not (a number such as a year or an amount,
  or a capitalised name such as a country: ``specifics``): "How many orders were placed in 2024?" or "How many
  customers are in Germany?" filter what "How many orders?" or "How many customers?" count, so the saved SQL
  would answer another question (found by the demo evaluation set, ``agent/evals/demo_set.py``).

Words go through ``tokens``: lower case, Porter stems, synonyms (``agent.knowledge.synonyms``, with the
semantic layer's through its providers), then the stop words of questions are dropped.
"""

import heapq
import math
import re
import threading
from array import array
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

from .stemmer import stem
from .synonyms import Synonyms, domain_synonyms

K1, B = 1.2, 0.75
COVERED_WEIGHT = 0.6
QUALIFIERS_ONLY = 0.5  # the factor of a candidate sharing only qualifiers with the question
SPECIFICS_MISSING = 0.5  # the factor of a candidate that lacks a number or name the question gives
_NUMBER = re.compile(r"\d[\d,.]*")
_NAME = re.compile(r"(?<![.?!]\s)(?<!^)\b[A-Z][a-z]+(?:\s[A-Z][a-z]+)*")
RERANK = 100  # candidates re-scored after the first BM25 pass
MEMO_TEXTS = 250_000  # questions whose words are kept (per synonyms table)
CACHED_INDEXES = 8
_WORD = re.compile(r"[a-z0-9]+")

STOP_WORDS = frozenset(
    """a about above after again all also am an and any are as at be been before being below between both but by
    can could did do does doing done during for from further get gets give go had has have having he her here
    him his how i if in into is it its itself just know let like me might more my need no nor not now of off on
    once only or other our out over own please really same see shall she should show so some such tell than
    that the their them then there these they this those through to too under until up us very want was we were
    what when which while who whom why will with would you your list display find return fetch pull look see
    many much does lot lots give whole currently
    work works working wise still yet ve ll re one two three four five six seven eight nine ten twenty hundred
    often among come comes took take assigned handle handled process processed bring brings brought generate
    generates contain contains term terms got getting ones thing things number numbers""".split()  # noqa: SIM905
)
_STOP_STEMS = frozenset(stem(word) for word in STOP_WORDS) - {"no"}


def tokens(text: str, synonyms: Synonyms | None = None) -> list[str]:
    """The words retrieval compares: stems, synonyms applied (phrases first), stop words and numbers dropped."""
    synonyms = synonyms or domain_synonyms()
    known = synonyms.memo.get(text)
    if known is not None:
        return list(known)
    stems = [stem(word) for word in _WORD.findall(text.lower().replace("'", " "))]
    found = [w for w in synonyms.apply(stems) if len(w) > 1 and w not in _STOP_STEMS and not w.isdigit()]
    if len(synonyms.memo) >= MEMO_TEXTS:  # a rebuilt index re-reads mostly the same questions: keep them
        synonyms.memo.clear()
    synonyms.memo[text] = tuple(found)
    return found


def specifics(text: str) -> frozenset[str]:
    """Numbers (``2024``, ``60,000`` as ``60000``) and capitalised names past the first word (``Germany``,
    ``Saudi Arabia``) of a question, lower-cased: the values a filter would use."""
    numbers = {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}
    names = {m.group(0).lower() for m in _NAME.finditer(text.strip())}
    return frozenset(numbers | names)


def _idf(df: int, n: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


class Index:
    """BM25 statistics of a fixed list of candidates (each a dict with at least ``question``)."""

    def __init__(self, candidates: Sequence[dict[str, Any]], synonyms: Synonyms | None = None):
        self.synonyms = synonyms or domain_synonyms()
        self.candidates = list(candidates)
        counted: list[dict[str, int]] = []
        lengths: list[int] = []
        df: dict[str, int] = {}
        for candidate in self.candidates:
            counts: dict[str, int] = {}
            words = tokens(candidate.get("question") or "", self.synonyms)
            for term in words:
                counts[term] = counts.get(term, 0) + 1
            for term in counts:
                df[term] = df.get(term, 0) + 1
            counted.append(counts)
            lengths.append(len(words))
        self.n = len(counted)
        self.avgdl = (sum(lengths) / self.n if self.n else 0.0) or 1.0
        self.idf = {term: _idf(count, self.n) for term, count in df.items()}
        self.unknown_idf = _idf(1, self.n + 1)  # a word no candidate uses weighs like the rarest one
        self.terms: list[frozenset[str]] = [frozenset(counts) for counts in counted]
        idf = self.idf
        self.weight = array("d", (sum(idf[t] for t in counts) for counts in counted))  # idf of its own words
        docs_of: dict[str, list[int]] = {}
        weights: dict[str, list[float]] = {}
        for number, counts in enumerate(counted):
            norm = K1 * (1 - B + B * lengths[number] / self.avgdl)
            for term, tf in counts.items():
                docs_of.setdefault(term, []).append(number)
                weights.setdefault(term, []).append(idf[term] * tf * (K1 + 1) / (tf + norm))
        self.postings = {term: (array("i", docs_of[term]), array("d", weights[term])) for term in docs_of}

    def _self_score(self, asked: dict[str, int], length: int) -> float:
        norm = K1 * (1 - B + B * length / self.avgdl)
        return sum(self.idf.get(term, self.unknown_idf) * tf * (K1 + 1) / (tf + norm) for term, tf in asked.items())

    def _bm25(self, asked: dict[str, int]) -> dict[int, float]:
        """BM25 of every candidate sharing a word with the question; the longest postings list is copied at C
        speed, the others added to it."""
        terms = sorted((t for t in asked if t in self.postings), key=lambda t: len(self.postings[t][0]), reverse=True)
        if not terms:
            return {}
        scores = dict(zip(*self.postings[terms[0]], strict=True))
        get = scores.get
        for term in terms[1:]:
            for number, weight in zip(*self.postings[term], strict=True):
                scores[number] = get(number, 0.0) + weight
        return scores

    def search(self, question: str, limit: int = 5) -> list[dict[str, Any]]:
        """The best ``limit`` candidates for ``question`` (copies with ``score`` in [0, 1]), best first."""
        words = tokens(question, self.synonyms)
        if not words or not self.n:
            return []
        asked: dict[str, int] = {}
        for word in words:
            asked[word] = asked.get(word, 0) + 1
        scores = self._bm25(asked)
        if not scores:
            return []
        best = self._self_score(asked, len(words))
        qualifiers = self.synonyms.qualifiers
        wanted = specifics(question)
        ranked = []
        for number in heapq.nlargest(RERANK, scores, key=scores.get):
            covered = min(1.0, scores[number] / best)
            shared = [t for t in self.terms[number] if t in asked]
            answered = sum(self.idf[t] for t in shared) / self.weight[number] if self.weight[number] else 0.0
            score = covered**COVERED_WEIGHT * answered ** (1 - COVERED_WEIGHT)
            if all(t in qualifiers for t in shared):
                score *= QUALIFIERS_ONLY
            if wanted and not wanted <= specifics(self.candidates[number].get("question") or ""):
                score *= SPECIFICS_MISSING
            ranked.append((round(score, 4), -number))
        ranked.sort(reverse=True)
        return [{**self.candidates[-neg], "score": score} for score, neg in ranked[:limit]]


_cache: OrderedDict[tuple, Index] = OrderedDict()
_cache_lock = threading.Lock()


def _key(candidates: Iterable[dict[str, Any]], synonyms: Synonyms) -> tuple:
    return (synonyms.fingerprint, hash(tuple((str(c.get("id")), c.get("question")) for c in candidates)))


def index_for(candidates: Sequence[dict[str, Any]], synonyms: Synonyms | None = None) -> Index:
    """An ``Index`` of ``candidates``, reused while the same candidates (ids and questions) come back."""
    synonyms = synonyms or domain_synonyms()
    key = _key(candidates, synonyms)
    with _cache_lock:
        index = _cache.get(key)
        if index is not None:
            _cache.move_to_end(key)
            return index
    index = Index(candidates, synonyms)
    with _cache_lock:
        _cache[key] = index
        while len(_cache) > CACHED_INDEXES:
            _cache.popitem(last=False)
    return index


def rank(
    question: str, candidates: Sequence[dict[str, Any]], *, limit: int = 5, synonyms: Synonyms | None = None
) -> list[dict[str, Any]]:
    """The ``limit`` candidates closest to ``question``, each a copy with ``score`` in [0, 1], best first;
    candidates sharing no word with the question are left out."""
    if not candidates:
        return []
    return index_for(candidates, synonyms).search(question, limit)
