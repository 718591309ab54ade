"""What the SQL gate, the runners and the data-source services share (issue 14, contract §5 "Agent").

A ``DataSourceSpec`` is everything a runner needs to reach one data source, with the URL already decrypted:
it never leaves the server. A ``CheckedSQL`` is what the gate let through: only a ``CheckedSQL`` is ever
executed. A refusal is a ``SqlRefused`` carrying the rule that refused it (contract: ``SQL_REFUSED`` with
``details.rule``).
"""

from dataclasses import dataclass, field
from typing import Any

from majed_vanna.exceptions import ApplicationError

ENGINES = ("sqlite", "postgresql")


@dataclass(frozen=True)
class DataSourceSpec:
    id: str
    name: str
    engine: str  # one of ENGINES
    url: str  # decrypted; never logged, never in a response
    statement_timeout_ms: int = 5_000
    row_cap: int = 1_000
    max_result_bytes: int = 5 * 1024 * 1024
    allow_system_catalogs: bool = False

    def __repr__(self) -> str:  # the URL may hold a password
        return f"DataSourceSpec(id={self.id!r}, name={self.name!r}, engine={self.engine!r})"


@dataclass(frozen=True)
class CheckedSQL:
    """SQL the gate accepted: ``sql`` is what runs (normalised by sqlglot for the source's dialect)."""

    sql: str
    dialect: str
    tables: tuple[str, ...] = ()  # the tables and views it reads, as named in the schema
    functions: tuple[str, ...] = ()  # the normalised function names it calls


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[list[Any]]
    row_count: int
    truncated: bool
    elapsed_ms: float
    notes: list[str] = field(default_factory=list)  # e.g. why it was truncated (row cap, byte cap)
    checked: CheckedSQL | None = None  # what the gate let through (set by ``data_source_query``)


class SqlRefused(ApplicationError):
    """The gate (or a runner's own guard) refused the statement; ``rule`` names which rule, in plain words in
    ``message``. Never carries internals (no driver text, no stack)."""

    code, status_code, default_message = "SQL_REFUSED", 422, "The query was refused"

    def __init__(self, rule: str, message: str):
        super().__init__(message, details={"rule": rule})
        self.rule = rule


class SqlTimeout(ApplicationError):
    code, status_code, default_message = "SQL_TIMEOUT", 504, "The query took longer than the data source allows"


class SqlError(ApplicationError):
    """The data source refused or failed the (accepted) statement; ``message`` is safe to show."""

    code, status_code, default_message = "SQL_ERROR", 422, "The data source could not run the query"
