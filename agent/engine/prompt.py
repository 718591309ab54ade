"""The system prompt: the rules, the relevant part of the schema (bounded), and relevant saved examples.

vanna asks a ``SystemPromptBuilder`` for the base prompt and an ``LlmContextEnhancer`` to add what depends on
the question. Ours add, for the run's data source:

* the tables that matter for the question (``schema_slice``): every table when the schema is small, else the
  tables whose names or columns share words with the question, plus the tables they join to, within
  ``MAX_SCHEMA_CHARS``; the model can ask for the others by name;
* up to ``MAX_EXAMPLES`` approved saved questions close to the question, with their SQL (their ids go to
  the lineage's ``memories``);
* the semantic layer's entries relevant to the question (``agent.selectors.semantic_context``: business terms,
  metrics with their SQL, described tables and columns, sample values) within ``MAX_SEMANTIC_CHARS`` (their
  ids go to the lineage's ``semantic``).
"""

import re
from typing import Any

from vanna.core.enhancer import LlmContextEnhancer
from vanna.core.system_prompt import SystemPromptBuilder

from .run import current_run

MAX_SCHEMA_CHARS = 6_000
MAX_EXAMPLES = 3
MAX_SEMANTIC_CHARS = 2_000
_WORD = re.compile(r"[a-z0-9]+")

RULES = """You are a data analyst answering questions about a {engine} database called "{source}".
To get data, call the tool run_sql with one read-only SELECT statement in {engine} SQL. Use only the tables
and columns listed below. Never modify data. If run_sql refuses the query or reports an error, read the
reason, correct the SQL and call run_sql again. After the rows come back, answer the question in one or two
plain sentences using the numbers from the result; the user already sees the table, so do not repeat it."""


def _words(text: str) -> set[str]:
    words = set(_WORD.findall(text.lower()))
    return words | {w[:-1] for w in words if w.endswith("s") and len(w) > 3}


def table_line(table: dict[str, Any]) -> str:
    columns = ", ".join(f"{c['name']} {c.get('type') or ''}".strip() for c in table.get("columns", []))
    keys = "; ".join(
        f"{', '.join(fk['columns'])} -> {fk['references']['table']}({', '.join(fk['references']['columns'])})"
        for fk in table.get("foreign_keys", [])
    )
    schema = table.get("schema")
    name = table["name"] if schema in (None, "", "public", "main") else f"{schema}.{table['name']}"
    return f"- {name}({columns})" + (f" [joins: {keys}]" if keys else "")


def schema_slice(snapshot: dict | None, question: str, *, limit: int = MAX_SCHEMA_CHARS) -> tuple[str, list[str]]:
    """The schema lines to show for ``question`` (at most ``limit`` characters) and the tables left out."""
    tables = (snapshot or {}).get("tables", [])
    lines = {t["name"]: table_line(t) for t in tables}
    if sum(len(line) + 1 for line in lines.values()) <= limit:
        return "\n".join(lines.values()), []
    asked = _words(question)

    def score(table: dict[str, Any]) -> float:
        name_words = _words(table["name"].replace("_", " "))
        column_words: set[str] = set()
        for column in table.get("columns", []):
            column_words |= _words(column["name"].replace("_", " "))
        return 3 * len(asked & name_words) + len(asked & column_words)

    ranked = sorted(tables, key=lambda t: (-score(t), t["name"]))
    chosen: list[str] = []
    for table in ranked:
        if score(table) <= 0:
            break
        chosen.append(table["name"])
        for fk in table.get("foreign_keys", []):  # what it joins to
            chosen.append(fk["references"]["table"])
    chosen = [name for name in dict.fromkeys(chosen) if name in lines]
    shown, size = [], 0
    for name in chosen:
        if size + len(lines[name]) + 1 > limit:
            break
        shown.append(name)
        size += len(lines[name]) + 1
    left_out = [t["name"] for t in tables if t["name"] not in shown]
    return "\n".join(lines[name] for name in shown), left_out


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


class ContextEnhancer(LlmContextEnhancer):
    """Adds the schema slice and the saved examples the run's context holds (``Run.context``)."""

    async def enhance_system_prompt(self, system_prompt: str, user_message: str, user) -> str:
        run = current_run.get()
        parts = [system_prompt]
        schema, left_out = schema_slice(run.schema, user_message)
        parts.append("\nSchema:\n" + (schema or "(no tables found)"))
        if left_out:
            parts.append(f"Other tables (ask only if needed): {', '.join(left_out[:100])}")
        semantic = await semantic_context_for(run, user_message)
        if semantic:
            parts.append("\nWhat the data means (the semantic layer):\n" + semantic)
        if run.examples:
            parts.append("\nSaved examples of questions and their SQL:")
            for example in run.examples[:MAX_EXAMPLES]:
                parts.append(f"Q: {example['question']}\nSQL: {example['sql']}")
        return "\n".join(parts)

    async def enhance_user_messages(self, messages, user):
        return messages
