"""The system prompt: the rules, the relevant part of the schema (bounded), and relevant saved examples.

vanna asks a ``SystemPromptBuilder`` for the base prompt and an ``LlmContextEnhancer`` to add what depends on
the question. Ours add, for the run's data source:

* of the tables the caller's role may see (``visible_schema``: the semantic layer's visible tables, as the
  gate's allow-list; a foreign key to a hidden table is left out too), the ones that matter for the question
  (``schema_slice``): every table when the schema fits in
  ``MAX_SCHEMA_CHARS``; else the tables whose names or columns share words with the question (a word that
  few tables have counts more than one most tables have, as ``id`` or ``name``; a name counts more than a
  column), with the earlier questions of the conversation counting half. In order, within ``MAX_SCHEMA_CHARS``:
  the few tables that together match the question's words best (a greedy cover) and the tables on the
  shortest join paths between them; the other strong matches; the tables they reference; the tables that
  reference the best three; then the weak matches (under ``WEAK`` of the best score), each with what it
  references. The names of the others follow (at most ``MAX_OTHER_NAMES``);
* up to ``MAX_EXAMPLES`` approved saved questions close to the question, with their SQL (their ids go to
  the lineage's ``memories``), each SQL at most ``MAX_EXAMPLE_SQL_CHARS``;
* the semantic layer's entries relevant to the question (``agent.selectors.semantic_context``: business terms,
  metrics with their SQL, described tables and columns, sample values) within ``MAX_SEMANTIC_CHARS`` (their
  ids go to the lineage's ``semantic``).
"""

import functools
import math
import re
from collections import deque
from typing import Any

from vanna.core.enhancer import LlmContextEnhancer
from vanna.core.system_prompt import SystemPromptBuilder

from majed_vanna.blocking import run_blocking

from .run import current_run

MAX_SCHEMA_CHARS = 6_000
MAX_OTHER_NAMES = 100
MAX_EXAMPLES = 3
OFF_LOOP_TABLES = 100  # a wider schema is sliced on a worker thread (400 tables: ~15 ms of CPU)
MAX_EXAMPLE_SQL_CHARS = 1_000
NAME_WEIGHT = 3.0  # a word of a table's name against one of its columns
CONTEXT_WEIGHT = 0.5  # the conversation's earlier questions against this one
MAX_JOIN_HOPS = 5
WEAK = 0.25
DEFAULT_SCHEMAS = (None, "", "public", "main")
MAX_SEMANTIC_CHARS = 2_000
_WORD = re.compile(r"[a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

RULES = """You are a data analyst answering questions about a {engine} database called "{source}".
To get data, call the tool run_sql with one read-only SELECT statement in {engine} SQL. Use only the tables
and columns listed below. Never modify data. If run_sql refuses the query or reports an error, read the
reason, correct the SQL and call run_sql again. After the rows come back, answer the question in one or two
plain sentences using the numbers from the result; the user already sees the table, so do not repeat it."""


def stem(word: str) -> str:
    """A crude singular (both sides of a match get the same treatment): categories → category, orders → order."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "uses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@functools.lru_cache(maxsize=65_536)  # identifiers repeat (id, name, created_at): a wide schema is read fast
def words(text: str) -> frozenset[str]:
    """The stemmed words of a question or an identifier (``customerId``, ``order_items``, ``OrderItems``)."""
    return frozenset(stem(w) for w in _WORD.findall(_CAMEL.sub(" ", text).lower()))


def qualified(table: dict[str, Any]) -> str:
    schema = table.get("schema")
    return table["name"] if schema in DEFAULT_SCHEMAS else f"{schema}.{table['name']}"


def _target(fk: dict[str, Any]) -> str:
    ref = fk["references"]
    return qualified({"name": ref["table"], "schema": ref.get("schema")})


def table_line(table: dict[str, Any]) -> str:
    columns = ", ".join(f"{c['name']} {c.get('type') or ''}".strip() for c in table.get("columns", []))
    keys = "; ".join(
        f"{', '.join(fk['columns'])} -> {_target(fk)}({', '.join(fk['references']['columns'])})"
        for fk in table.get("foreign_keys", [])
    )
    return f"- {qualified(table)}({columns})" + (f" [joins: {keys}]" if keys else "")


class _Index:
    """The schema's tables as bags of words, weighted by how rare each word is across the tables."""

    def __init__(self, tables: list[dict[str, Any]]):
        self.names: dict[str, set[str]] = {}
        self.columns: dict[str, set[str]] = {}
        self.references: dict[str, set[str]] = {}  # the tables a table's foreign keys point at
        self.referenced_by: dict[str, set[str]] = {}
        for table in tables:
            key = qualified(table)
            self.names[key] = words(table["name"])
            self.columns[key] = set().union(*(words(c["name"]) for c in table.get("columns", [])))
            self.references[key], self.referenced_by[key] = set(), set()
        for table in tables:
            for fk in table.get("foreign_keys", []):
                target = _target(fk)
                if target in self.references and target != qualified(table):
                    self.references[qualified(table)].add(target)
                    self.referenced_by[target].add(qualified(table))
        count = max(len(self.names), 1)
        frequency: dict[str, int] = {}
        for key in self.names:
            for word in self.names[key] | self.columns[key]:
                frequency[word] = frequency.get(word, 0) + 1
        self.weight = {w: math.log(1 + count / n) for w, n in frequency.items()}

    def score(
        self, key: str, asked: set[str], earlier: set[str] = frozenset(), covered: set[str] = frozenset()
    ) -> float:
        """How well ``key`` matches the question's words (``earlier``: the conversation's, counting
        ``CONTEXT_WEIGHT``), leaving out the ``covered`` ones."""
        total = 0.0
        for bag, factor in ((asked - covered, 1.0), (earlier - covered, CONTEXT_WEIGHT)):
            named = bag & self.names[key]
            columns = (bag & self.columns[key]) - named
            total += factor * (NAME_WEIGHT * sum(self.weight[w] for w in named) + sum(self.weight[w] for w in columns))
        return total

    def matches(self, key: str, asked: set[str]) -> set[str]:
        return asked & (self.names[key] | self.columns[key])

    def path(self, start: str, goal: str) -> list[str]:
        """The tables between ``start`` and ``goal`` on a shortest join path (at most ``MAX_JOIN_HOPS``)."""
        previous: dict[str, str | None] = {start: None}
        queue = deque([(start, 0)])
        while queue:
            node, hops = queue.popleft()
            if node == goal:
                between = []
                while (node := previous[node]) not in (None, start):
                    between.append(node)
                return between
            if hops < MAX_JOIN_HOPS:
                for nxt in sorted(self.references[node] | self.referenced_by[node]):
                    if nxt not in previous:
                        previous[nxt] = node
                        queue.append((nxt, hops + 1))
        return []


def _cover(index: _Index, strong: list[str], asked: set[str], earlier: set[str]) -> list[str]:
    """Greedily, the strong tables that together match the most of the question: each next one adds the
    most words not matched yet (two tables matching the same word: the better one only)."""
    cover: list[str] = []
    covered: set[str] = set()
    while True:
        gains = {k: index.score(k, asked, earlier, covered) for k in strong if k not in cover}
        best = max(gains, key=lambda k: (gains[k], -strong.index(k)), default=None)
        if best is None or gains[best] <= 0:
            return cover
        cover.append(best)
        covered |= index.matches(best, asked | earlier)


def relevant_tables(tables: list[dict[str, Any]], question: str, context: str = "") -> list[str]:
    """The tables for ``question`` (``context``: the earlier questions) in the order the module docstring
    gives; every table, biggest first, when no word matches."""
    index = _Index(tables)
    asked = words(question)
    earlier = words(context) - asked
    scores = {key: index.score(key, asked, earlier) for key in index.names}
    matched = sorted((k for k, s in scores.items() if s > 0), key=lambda k: (-scores[k], k))
    if not matched:
        by_size = sorted(tables, key=lambda t: (-(t.get("row_estimate") or 0), qualified(t)))
        return [qualified(t) for t in by_size]
    strong = [k for k in matched if scores[k] >= WEAK * scores[matched[0]]]
    cover = _cover(index, strong, asked, earlier)
    chosen = list(cover)
    for rank, key in enumerate(cover):  # how each joins the ones before it
        for before in cover[:rank]:
            chosen += index.path(key, before)
    chosen += strong
    for key in strong:
        chosen += sorted(index.references[key])
    for key in strong[:3]:
        chosen += sorted(index.referenced_by[key])
    for key in matched[len(strong) :]:
        chosen += [key, *sorted(index.references[key])]
    return list(dict.fromkeys(chosen))


def schema_slice(
    snapshot: dict | None, question: str, *, context: str = "", limit: int = MAX_SCHEMA_CHARS
) -> tuple[str, list[str]]:
    """The schema lines to show for ``question`` (at most ``limit`` characters) and the tables left out."""
    tables = (snapshot or {}).get("tables", [])
    lines = {qualified(t): table_line(t) for t in tables}
    if sum(len(line) + 1 for line in lines.values()) <= limit:
        return "\n".join(lines.values()), []
    shown, size = [], 0
    for key in relevant_tables(tables, question, context):
        if size + len(lines[key]) + 1 <= limit:
            shown.append(key)
            size += len(lines[key]) + 1
    left_out = [key for key in lines if key not in set(shown)]
    return "\n".join(lines[key] for key in shown), left_out


def schema_visible(snapshot: dict | None, visible: list[str] | None) -> dict | None:
    """``snapshot`` without the tables outside ``visible`` (``None``: all shown), nor foreign keys to them."""
    if visible is None or snapshot is None:
        return snapshot
    allowed = {name.lower() for name in visible}
    tables = []
    for table in snapshot.get("tables", []):
        if qualified(table).lower() not in allowed:
            continue
        keys = [fk for fk in table.get("foreign_keys", []) if _target(fk).lower() in allowed]
        tables.append({**table, "foreign_keys": keys} if "foreign_keys" in table else table)
    return {**snapshot, "tables": tables}


async def visible_schema(run) -> dict | None:
    """The run's schema as the caller's role may see it (``schema_visible``)."""
    from agent import selectors
    from agent.services.chat import orm

    if run.data_source is None:
        return run.schema
    visible = await orm(selectors.semantic_visible_tables, run.data_source, getattr(run.principal, "role", None))
    return schema_visible(run.schema, visible)


async def semantic_context_for(run, question: str) -> str:
    """The semantic layer's entries relevant to ``question`` (bounded; tables hidden from the caller's role
    left out); their ids go to the lineage's ``semantic``."""
    from agent import selectors
    from agent.services.chat import orm

    role = getattr(run.principal, "role", None)
    found = await orm(selectors.semantic_context, run.data_source, question, MAX_SEMANTIC_CHARS, role=role)
    run.semantic = list(found.ids)
    return found.text


class RulesPromptBuilder(SystemPromptBuilder):
    async def build_system_prompt(self, user, tools) -> str:
        run = current_run.get()
        source = run.data_source
        return RULES.format(engine="SQLite" if source.engine == "sqlite" else "PostgreSQL", source=source.name)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ContextEnhancer(LlmContextEnhancer):
    """Adds the schema slice (with the earlier questions as context) and the run's saved examples (``Run.examples``)."""

    async def enhance_system_prompt(self, system_prompt: str, user_message: str, user) -> str:
        run = current_run.get()
        parts = [system_prompt]
        earlier = " ".join(m["content"] for m in run.history if m["role"] == "user")
        snapshot = await visible_schema(run)
        if len((snapshot or {}).get("tables", [])) > OFF_LOOP_TABLES:  # CPU work: keep the event loop free
            schema, left_out = await run_blocking(schema_slice, snapshot, user_message, context=earlier)
        else:
            schema, left_out = schema_slice(snapshot, user_message, context=earlier)
        parts.append("\nSchema:\n" + (schema or "(no tables found)"))
        if left_out:
            more = f" and {len(left_out) - MAX_OTHER_NAMES} more" if len(left_out) > MAX_OTHER_NAMES else ""
            parts.append(f"Other tables (columns not shown): {', '.join(left_out[:MAX_OTHER_NAMES])}{more}")
        semantic = await semantic_context_for(run, user_message)
        if semantic:
            parts.append("\nWhat the data means (the semantic layer):\n" + semantic)
        if run.examples:
            parts.append("\nSaved examples of questions and their SQL:")
            for example in run.examples[:MAX_EXAMPLES]:
                parts.append(f"Q: {example['question']}\nSQL: {_clip(example['sql'], MAX_EXAMPLE_SQL_CHARS)}")
        return "\n".join(parts)

    async def enhance_user_messages(self, messages, user):
        return messages
