"""Reads of the semantic layer (contract §5 "Knowledge" → Semantic layer), for its API and for the agent.

Who sees what: a caller sees the entries of the data sources it may use (``agent.selectors.data_sources_visible``).
Callers with ``admin_tools`` see every entry there; others do not see a table whose ``visible_to`` leaves out
their role, nor its columns, the metrics over it or the relationships that join it (404 on retrieve).

For the agent (re-exported by ``agent.selectors``):

* ``semantic_context(source, question, limit_chars)``: the entries relevant to a question (descriptions,
  synonyms, sample values, metrics with their SQL, business terms) as prompt text, bounded, with their ids
  (for the lineage's ``semantic``);
* ``semantic_visible_tables(source, role)``: the tables a role may query, for the gate's allow-list;
* ``semantic_synonyms(source)``: ``{canonical: [synonyms]}``, for retrieval's synonym providers.
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Max, Q, QuerySet

from majed_vanna.api.filtering import filter_queryset
from majed_vanna.api.permissions import principal_permissions

from ..models import (
    DataSource,
    DriftState,
    SemanticColumn,
    SemanticMetric,
    SemanticRelationship,
    SemanticTable,
    SemanticTerm,
)
from . import semantic_filters as filters
from .semantic_search import Bm25, Document
from .semantic_sql import NotAnExpression, metric_statement

KINDS = ("table", "column", "metric", "term", "relationship")
DEFAULT_CONTEXT_CHARS = 2_000
MAX_CONTEXT_ENTRIES = 40
MAX_SEARCH_RESULTS = 100


def may_manage(principal) -> bool:
    """``admin_tools``: writes the semantic layer and sees all of it."""
    return "admin_tools" in principal_permissions(principal)


def _sources(principal) -> QuerySet[DataSource]:
    from agent.selectors import data_sources_visible

    return data_sources_visible(principal)


def _hidden_tables(tables: QuerySet[SemanticTable], role: str | None) -> list[tuple[Any, str, Any]]:
    """``(data_source_id, name, pk)`` of the tables among ``tables`` whose ``visible_to`` leaves ``role`` out
    (``visible_to`` is a JSON list: filtered here, portable across SQLite and PostgreSQL)."""
    rows = tables.values_list("data_source_id", "name", "pk", "visible_to")
    return [(source, name, pk) for source, name, pk, roles in rows if role not in (roles or [])]


@dataclass(frozen=True)
class _Visibility:
    sources: QuerySet
    hidden: list[tuple[Any, str, Any]] = field(default_factory=list)

    def table_names(self) -> Q:
        """Entries naming a hidden table, as a lookup on ``<prefix>`` fields (to exclude)."""
        where = Q(pk__in=[])
        for source, name, _pk in self.hidden:
            where |= Q(data_source_id=source, table__iexact=name)
        return where


def _visibility(principal) -> _Visibility:
    sources = _sources(principal)
    if may_manage(principal):
        return _Visibility(sources)
    tables = SemanticTable.objects.filter(data_source__in=sources)
    return _Visibility(sources, _hidden_tables(tables, getattr(principal, "role", None)))


def semantic_tables_visible(principal) -> QuerySet[SemanticTable]:
    seen = _visibility(principal)
    return SemanticTable.objects.filter(data_source__in=seen.sources).exclude(pk__in=[pk for *_, pk in seen.hidden])


def semantic_columns_visible(principal) -> QuerySet[SemanticColumn]:
    seen = _visibility(principal)
    columns = SemanticColumn.objects.filter(data_source__in=seen.sources).select_related("table")
    return columns.exclude(table_id__in=[pk for *_, pk in seen.hidden])


def semantic_metrics_visible(principal) -> QuerySet[SemanticMetric]:
    seen = _visibility(principal)
    metrics = SemanticMetric.objects.filter(data_source__in=seen.sources).select_related("data_source")
    return metrics.exclude(seen.table_names())


def semantic_terms_visible(principal) -> QuerySet[SemanticTerm]:
    return SemanticTerm.objects.filter(data_source__in=_sources(principal))


def semantic_relationships_visible(principal) -> QuerySet[SemanticRelationship]:
    seen = _visibility(principal)
    hidden = Q(pk__in=[])
    for source, name, _pk in seen.hidden:
        hidden |= Q(data_source_id=source) & (Q(from_table__iexact=name) | Q(to_table__iexact=name))
    return SemanticRelationship.objects.filter(data_source__in=seen.sources).exclude(hidden)


VISIBLE = {
    "table": semantic_tables_visible,
    "column": semantic_columns_visible,
    "metric": semantic_metrics_visible,
    "term": semantic_terms_visible,
    "relationship": semantic_relationships_visible,
}
FILTERS = {
    "table": (filters.SemanticTableFilter, ("name", "id")),
    "column": (filters.SemanticColumnFilter, ("table__name", "name", "id")),
    "metric": (filters.SemanticMetricFilter, ("name", "id")),
    "term": (filters.SemanticTermFilter, ("term", "id")),
    "relationship": (filters.SemanticRelationshipFilter, ("from_table", "to_table", "id")),
}


def semantic_list(*, kind: str, principal, params) -> QuerySet:
    """The visible entries of ``kind``, filtered and ordered by its FilterSet (a bad value is 422)."""
    filterset, ordering = FILTERS[kind]
    return filter_queryset(filterset, params, VISIBLE[kind](principal).order_by(*ordering))


def metric_sql(metric: SemanticMetric, engine: str) -> str:
    """The statement a metric stands for (``""`` if a part no longer reads as SQL)."""
    try:
        return metric_statement(
            expression=metric.expression, table=metric.table, filters=list(metric.filters or []), engine=engine
        )
    except NotAnExpression:
        return ""


# --- ranking: search and the prompt's context


MODELS = {
    "table": SemanticTable,
    "column": SemanticColumn,
    "metric": SemanticMetric,
    "term": SemanticTerm,
    "relationship": SemanticRelationship,
}
INDEX_CACHE_SIZE = 16
_indexes: "OrderedDict[tuple, tuple[tuple, Bm25]]" = OrderedDict()
_indexes_lock = threading.Lock()


def _documents(*, sources, kinds=KINDS) -> list[Document]:
    """Every present entry of ``sources`` as a BM25 document (hidden tables are filtered from the hits)."""
    docs: list[Document] = []
    live = ~Q(state=DriftState.REMOVED)
    if "table" in kinds:
        for row in SemanticTable.objects.filter(live, data_source__in=sources).values(
            "id", "data_source_id", "name", "description", "synonyms", "kind"
        ):
            item = {**row, "kind": "table", "table_kind": row["kind"]}
            docs.append(Document(item, [row["name"], *row["synonyms"]], [row["description"]]))
    if "column" in kinds:
        for row in SemanticColumn.objects.filter(live, data_source__in=sources).values(
            "id",
            "data_source_id",
            "name",
            "description",
            "synonyms",
            "sample_values",
            "data_type",
            "table_id",
            "table__name",
        ):
            table = row.pop("table__name")
            item = {**row, "kind": "column", "table": table}
            texts = [row["description"], table, *map(str, row["sample_values"] or [])]
            docs.append(Document(item, [row["name"], *row["synonyms"]], texts))
    if "metric" in kinds:
        for row in SemanticMetric.objects.filter(data_source__in=sources).values(
            "id", "data_source_id", "name", "description", "synonyms", "expression", "table", "filters"
        ):
            texts = [row["description"], row["expression"], row["table"]]
            docs.append(Document({**row, "kind": "metric"}, [row["name"], *row["synonyms"]], texts))
    if "term" in kinds:
        for row in SemanticTerm.objects.filter(data_source__in=sources).values(
            "id", "data_source_id", "term", "definition", "synonyms"
        ):
            item = {**row, "kind": "term", "name": row["term"]}
            docs.append(Document(item, [row["term"], *row["synonyms"]], [row["definition"]]))
    if "relationship" in kinds:
        for row in SemanticRelationship.objects.filter(live, data_source__in=sources).values(
            "id", "data_source_id", "key", "from_table", "to_table", "description"
        ):
            item = {**row, "kind": "relationship", "name": row["key"]}
            docs.append(Document(item, [row["from_table"], row["to_table"]], [row["description"]]))
    return docs


def _stamp(source_ids: tuple, kinds: tuple) -> tuple:
    """What changes whenever an entry of these sources is added, changed or deleted (one query per kind)."""
    stamp = []
    for kind in kinds:
        found = MODELS[kind].objects.filter(data_source__in=source_ids).aggregate(n=Count("pk"), last=Max("updated_at"))
        stamp.append((found["n"], found["last"]))
    return tuple(stamp)


def _index(source_ids: tuple, kinds: tuple, *, purpose: str) -> Bm25:
    """The BM25 index of these sources' present entries, built again only when they changed (per process, the
    ``INDEX_CACHE_SIZE`` most recently used). ``purpose`` ``context``: only entries that say something."""
    key = (tuple(sorted(map(str, source_ids))), tuple(kinds), purpose)
    stamp = _stamp(source_ids, kinds)
    with _indexes_lock:
        cached = _indexes.get(key)
        if cached is not None and cached[0] == stamp:
            _indexes.move_to_end(key)
            return cached[1]
    docs = _documents(sources=list(source_ids), kinds=kinds)
    if purpose == "context":
        docs = [doc for doc in docs if _says_something(doc.item)]
    index = Bm25(docs)
    with _indexes_lock:
        _indexes[key] = (stamp, index)
        _indexes.move_to_end(key)
        while len(_indexes) > INDEX_CACHE_SIZE:
            _indexes.popitem(last=False)
    return index


def _shown(item: dict, hidden_pks: set, hidden_names: set) -> bool:
    """Whether ``item`` survives the hidden tables (``hidden_names``: ``(data_source_id, lower-cased name)``)."""
    kind, source = item["kind"], item["data_source_id"]
    if kind == "table":
        return item["id"] not in hidden_pks
    if kind == "column":
        return item["table_id"] not in hidden_pks
    if kind == "metric":
        return (source, item["table"].lower()) not in hidden_names
    if kind == "relationship":
        return not {(source, item["from_table"].lower()), (source, item["to_table"].lower())} & hidden_names
    return True


def _hidden_sets(tables: QuerySet[SemanticTable], role: str | None) -> tuple[set, set]:
    hidden = _hidden_tables(tables, role)
    return {pk for *_, pk in hidden}, {(source, name.lower()) for source, name, _pk in hidden}


def semantic_search(*, principal, query: str, data_source=None, kinds=KINDS) -> list[dict[str, Any]]:
    """Visible, present entries ranked by relevance to ``query`` (BM25, best first), at most
    ``MAX_SEARCH_RESULTS``; each ``{kind, id, data_source, name, ..., score}``."""
    sources = _sources(principal)
    if data_source is not None:
        sources = sources.filter(pk=data_source)
    source_ids = tuple(sources.values_list("pk", flat=True))
    if not source_ids or not query.strip():
        return []
    hidden_pks, hidden_names = set(), set()
    if not may_manage(principal):
        tables = SemanticTable.objects.filter(data_source__in=source_ids)
        hidden_pks, hidden_names = _hidden_sets(tables, getattr(principal, "role", None))
    found = []
    for hit in _index(source_ids, tuple(kinds), purpose="search").search(query):
        if _shown(hit.item, hidden_pks, hidden_names):
            found.append(_search_item(hit.item, hit.score))
            if len(found) == MAX_SEARCH_RESULTS:
                break
    return found


def _search_item(item: dict, score: float) -> dict[str, Any]:
    return {
        "kind": item["kind"],
        "id": item["id"],
        "data_source": item["data_source_id"],
        "name": item["name"],
        "table": item.get("table") if item["kind"] in ("column", "metric") else None,
        "description": item.get("description") or item.get("definition") or "",
        "synonyms": list(item.get("synonyms") or []),
        "score": score,
    }


@dataclass(frozen=True)
class SemanticContext:
    text: str  # "" when nothing is relevant
    ids: list[str]  # of the entries the text holds (the lineage's ``semantic``)


def _context_line(item: dict, engine: str) -> tuple[int, str]:
    """``(section, line)`` of one entry in the prompt."""
    also = f" (also called: {', '.join(item['synonyms'])})" if item.get("synonyms") else ""
    if item["kind"] == "term":
        return 0, f'- "{item["term"]}"{also}: {item["definition"]}'
    if item["kind"] == "metric":
        metric = SemanticMetric(expression=item["expression"], table=item["table"], filters=item["filters"] or [])
        sql = metric_sql(metric, engine) or item["expression"]
        description = f" — {item['description']}" if item["description"] else ""
        return 1, f"- {item['name']}{also}{description}: {sql}"
    name = item["name"] if item["kind"] == "table" else f"{item['table']}.{item['name']}"
    parts = [item["description"]] if item["description"] else []
    if item.get("sample_values"):
        parts.append("values: " + ", ".join(map(str, item["sample_values"])))
    return 2, f"- {name}{also}" + (f": {'; '.join(parts)}" if parts else "")


SECTIONS = (
    "Business terms:",
    "Defined metrics (use the SQL as given when a question asks for one):",
    "Table and column notes:",
)


def _says_something(item: dict) -> bool:
    """Tables and columns the schema already shows add nothing unless people described them or samples exist."""
    if item["kind"] in ("term", "metric"):
        return True
    return bool(item.get("description") or item.get("synonyms") or item.get("sample_values"))


def semantic_context(
    source: DataSource, question: str, limit_chars: int = DEFAULT_CONTEXT_CHARS, *, role: str | None = None
) -> SemanticContext:
    """The entries of ``source`` relevant to ``question`` as prompt text (at most ``limit_chars``), most
    relevant first within the budget, and their ids. ``role``: leave out tables hidden from that role (and
    their columns and metrics)."""
    hidden_pks, hidden_names = set(), set()
    if role is not None:
        hidden_pks, hidden_names = _hidden_sets(SemanticTable.objects.filter(data_source=source), role)
    chosen: list[tuple[int, str, str]] = []
    size = sum(len(title) + 1 for title in SECTIONS)
    index = _index((source.pk,), ("table", "column", "metric", "term"), purpose="context")
    hits = index.search(question, limit=None if hidden_pks else MAX_CONTEXT_ENTRIES)
    considered = 0
    for hit in hits:
        if not _shown(hit.item, hidden_pks, hidden_names):
            continue
        considered += 1
        if considered > MAX_CONTEXT_ENTRIES:
            break
        section, line = _context_line(hit.item, source.engine)
        if size + len(line) + 1 > limit_chars:
            continue
        size += len(line) + 1
        chosen.append((section, line, str(hit.item["id"])))
    if not chosen:
        return SemanticContext("", [])
    lines = []
    for number, title in enumerate(SECTIONS):
        entries = [line for section, line, _id in chosen if section == number]
        if entries:
            lines.extend([title, *entries])
    return SemanticContext("\n".join(lines), [entry_id for *_, entry_id in chosen])


def semantic_visible_tables(source: DataSource, role: str) -> list[str] | None:
    """The tables of ``source`` that ``role`` may query (as the gate names them), or ``None`` when the source
    has no table entries yet (never scanned: the semantic layer restricts nothing). A table the data source
    gained after the last scan is not in the list until a scan adds it."""
    rows = list(
        SemanticTable.objects.filter(data_source=source)
        .exclude(state=DriftState.REMOVED)
        .values_list("name", "visible_to")
    )
    if not rows and not SemanticTable.objects.filter(data_source=source).exists():
        return None
    return sorted(name for name, roles in rows if role in (roles or []))


def semantic_hidden_tables(source: DataSource, role: str) -> list[str]:
    """The tables of ``source`` hidden from ``role`` (their ``visible_to`` leaves it out)."""
    tables = SemanticTable.objects.filter(data_source=source)
    return sorted(name for _source, name, _pk in _hidden_tables(tables, role))


def semantic_synonyms(source: DataSource | None) -> dict[str, list[str]]:
    """The layer's words for retrieval: ``{canonical phrase: [synonyms]}`` from the present tables, columns,
    metrics and terms of ``source`` that have synonyms (names with ``_`` read as spaces). The shape of the
    offline answerer's synonym providers (``fn(data_source) -> {canonical: [variants]}``)."""
    if source is None:
        return {}
    found: dict[str, list[str]] = {}
    live = ~Q(state=DriftState.REMOVED)
    rows = [
        *SemanticTable.objects.filter(live, data_source=source).values_list("name", "synonyms"),
        *SemanticColumn.objects.filter(live, data_source=source).values_list("name", "synonyms"),
        *SemanticMetric.objects.filter(data_source=source).values_list("name", "synonyms"),
        *SemanticTerm.objects.filter(data_source=source).values_list("term", "synonyms"),
    ]
    for name, synonyms in rows:
        if synonyms:
            canonical = name.rpartition(".")[2].replace("_", " ").lower()
            found.setdefault(canonical, [])
            found[canonical].extend(s for s in synonyms if s.lower() not in found[canonical])
    return found
