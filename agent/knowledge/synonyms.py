"""Words that mean the same thing to retrieval: one built-in table for the domain of orders, customers and staff,
plus whatever the registered providers add per data source (issue 16: the semantic layer's terms and synonyms).

Each entry maps a canonical phrase to its variants. Both sides are stemmed (``agent.knowledge.stemmer``), so one
form covers its inflections ("client" covers "clients"); a variant may be several words ("sales rep"), and the
longest variant wins ("total number of" before "total"). A canonical phrase may be empty: the variant is then
noise in a question ("placed", "ever") and is dropped.

Providers: ``register_synonym_provider(fn)``, ``fn(data_source) -> {canonical: [variants]}``; their entries come
after the built-in ones (a provider may re-map a built-in variant). ``synonyms_for(data_source)`` combines them.
"""

import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .stemmer import stem

MAX_PHRASE_WORDS = 4
MAX_COMPILED = 64  # combined tables kept (one per data source with semantic synonyms)
_WORD = re.compile(r"[a-z0-9]+")

DOMAIN_SYNONYMS: dict[str, tuple[str, ...]] = {
    # counting and measures
    "count": (
        "how many", "number of", "total number of", "count of", "tally", "quantity of", "amount of", "size", "sizes",
    ),
    "average": ("mean", "avg", "typical", "on average"),
    "revenue": (
        "sales", "turnover", "income", "takings", "earnings", "gross", "money made", "money we made", "sales amount",
        "sales volume", "sales total", "total sales", "total revenue", "how much money", "we earn", "we make",
        "we made",
    ),
    "spend": (
        "spent", "spending", "spender", "spenders", "amount spent", "money spent", "lifetime value", "paid us",
        "bought for",
    ),
    "value": ("worth", "amount", "basket size", "ticket size", "order size"),
    "order value": ("order total", "orders total"),
    "count orders": ("order volume", "order count", "number of orders"),
    "quantity": ("units", "unit", "pieces", "volume", "units sold", "copies"),
    "rate": ("share", "percentage", "percent", "proportion", "ratio", "fraction"),
    "top": (
        "best", "highest", "biggest", "largest", "most", "greatest", "leading", "maximum", "max", "heaviest",
        "busiest", "peak", "rank", "ranked", "ranking",
    ),
    "top price": ("priciest", "costliest", "most expensive", "highest priced", "cost the most", "costs the most"),
    "top sell": (
        "best selling", "best sellers", "bestselling", "bestsellers", "top selling", "most popular", "popular",
    ),
    "each": (
        "per", "every", "by each", "breakdown", "broken down", "break down", "split", "grouped", "for every",
        "across", "distribution", "distribution of",
    ),
    # entities
    "customers": (
        "clients", "buyers", "shoppers", "purchasers", "consumers", "patrons", "client base", "customer base",
    ),
    "employees": ("staff", "workers", "personnel", "staffers", "workforce", "team members", "people on payroll"),
    "count employees": ("headcount", "head count", "staff count", "staff size"),
    "orders": ("purchases", "transactions", "sales orders", "bookings"),
    "products": ("articles", "goods", "merchandise", "skus", "catalog", "catalogue", "product range"),
    "category": ("categories", "type", "kind", "product line", "section", "segment", "genre", "family"),
    "department": ("dept", "division", "team", "business unit", "function"),
    "salesperson": (
        "sales rep", "sales reps", "sales representative", "salesman", "saleswoman", "seller", "sales agent",
        "account manager", "sales staff", "salespeople", "sales people", "sales employee",
    ),
    "country": (
        "countries", "nation", "nations", "region", "location", "where", "come from", "based in", "located in",
    ),
    "email": ("e mail", "email address", "mail address", "contact email", "mail"),
    "salary": ("pay", "wage", "wages", "compensation", "earn", "paid", "payroll", "income of employees"),
    "price": ("cost", "costs", "price tag", "list price", "unit price", "priced", "expensive", "pricey", "costly"),
    # statuses and events
    "cancel": ("void", "voided", "abort", "aborted", "called off", "rescind", "cancelation"),
    "pending": (
        "open", "outstanding", "awaiting", "unprocessed", "not yet shipped", "not shipped", "not been shipped",
        "unshipped", "waiting", "unfulfilled",
    ),
    "status": ("statuses", "state", "stage"),  # Porter stems "status" and "statuses" apart
    "signup": ("signed up", "sign up", "joined", "registered", "acquired", "new customers", "onboarded customers"),
    "hire": ("recruited", "onboarded", "started", "brought on", "took on", "joined the company", "hires"),
    "online": ("web", "website", "internet", "ecommerce", "e commerce", "without a salesperson", "no salesperson"),
    "no": ("without", "lacking", "lack", "missing", "absent", "not", "none", "never", "don t have", "do not have"),
    "recent": ("latest", "newest", "last", "most recent", "just placed"),
    "month": ("monthly", "months", "month by month", "per month", "each month"),
    "year": ("yearly", "annual", "annually", "years", "year by year"),
    "weekday": ("day of the week", "days of the week", "week day", "weekdays", "which day"),
    # noise in a question
    "": (
        "placed", "place", "made", "make", "submitted", "received", "ever", "overall", "so far", "to date",
        "all time", "of all time", "currently", "right now", "in total", "altogether", "our", "we", "total",
    ),
}  # fmt: skip

# Canonical words that qualify a question (how to count, rank, group, filter by time) without naming what it is
# about; retrieval does not match two questions on these alone (``agent.knowledge.retrieval``).
QUALIFIERS = ("count", "average", "top", "each", "rate", "no", "recent", "month", "year", "weekday", "status")

SynonymTable = Mapping[str, Iterable[str]]
_providers: list[Callable[[Any], SynonymTable]] = []


def _stems(text: str) -> tuple[str, ...]:
    return tuple(stem(word) for word in _WORD.findall(text.lower()))


class Synonyms:
    """A compiled table: stemmed variant phrase -> stemmed canonical words."""

    def __init__(self, *tables: SynonymTable):
        self.phrases: dict[tuple[str, ...], tuple[str, ...]] = {}
        for table in tables:
            for canonical, variants in table.items():
                target = _stems(canonical)
                for variant in (*variants, canonical):
                    key = _stems(variant)
                    if key and len(key) <= MAX_PHRASE_WORDS and (key != target or variant == canonical):
                        self.phrases[key] = target
        self.qualifiers = frozenset(_stems(" ".join(QUALIFIERS)))
        self.longest = max((len(key) for key in self.phrases), default=1)
        self.starts = frozenset(key[0] for key in self.phrases if len(key) > 1)
        payload = json.dumps(sorted(self.phrases.items()), separators=(",", ":"))
        self.fingerprint = hashlib.sha256(payload.encode()).hexdigest()[:16]
        self.memo: dict[str, tuple[str, ...]] = {}  # text -> its retrieval words (agent.knowledge.retrieval)

    def apply(self, stems: list[str]) -> list[str]:
        """``stems`` with every variant phrase replaced by its canonical words (longest phrase first)."""
        out: list[str] = []
        phrases, starts = self.phrases, self.starts
        i, n = 0, len(stems)
        while i < n:
            word = stems[i]
            if word in starts:  # a phrase may begin here: the longest one wins
                for size in range(min(self.longest, n - i), 1, -1):
                    target = phrases.get(tuple(stems[i : i + size]))
                    if target is not None:
                        out.extend(target)
                        i += size
                        break
                else:
                    out.extend(phrases.get((word,), (word,)))
                    i += 1
            else:
                out.extend(phrases.get((word,), (word,)))
                i += 1
        return out


def register_synonym_provider(provider: Callable[[Any], SynonymTable]) -> None:
    """Add ``provider(data_source) -> {canonical: [variants]}`` (e.g. the semantic layer's terms)."""
    if provider not in _providers:
        _providers.append(provider)


def unregister_synonym_provider(provider: Callable[[Any], SynonymTable]) -> None:
    if provider in _providers:
        _providers.remove(provider)


@functools.lru_cache(maxsize=1)
def domain_synonyms() -> Synonyms:
    return Synonyms(DOMAIN_SYNONYMS)


_compiled: dict[str, Synonyms] = {}


def synonyms_for(data_source=None) -> Synonyms:
    """The built-in table plus every provider's entries for ``data_source`` (the same object while they are the
    same, so its memo of questions' words is kept)."""
    extra = [table for provider in _providers if (table := provider(data_source))]
    if not extra:
        return domain_synonyms()
    compiled = Synonyms(DOMAIN_SYNONYMS, *extra)
    if len(_compiled) > MAX_COMPILED:
        _compiled.clear()
    return _compiled.setdefault(compiled.fingerprint, compiled)


def semantic_layer_synonyms(data_source) -> dict[str, list[str]]:
    """The provider for the semantic layer (``agent.selectors.semantic_synonyms``): the synonyms people gave the
    tables, columns, metrics and terms of ``data_source`` (nothing for anything that is not a stored source)."""
    from agent.models import DataSource

    if not isinstance(data_source, DataSource) or data_source.pk is None:
        return {}
    from agent.selectors import semantic_synonyms

    return semantic_synonyms(data_source)


register_synonym_provider(semantic_layer_synonyms)
