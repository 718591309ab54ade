"""The SQL gate (agent/sql/gate.py), layers 1-3 of issue 14: the hostile and benign suites, each layer alone,
name normalisation, resource rules, and what the gate hands on to the runners."""

import logging
import sqlite3

import pytest
import sqlglot
from sqlglot import exp

from agent.sql import gate
from agent.sql.gate import check, check_functions, check_statement, check_tables, parse_statement
from agent.sql.types import CheckedSQL, SqlRefused
from agent.tests.sql.benign import BENIGN
from agent.tests.sql.hostile import HOSTILE

DEMO_TABLES = ("customers", "products", "employees", "orders", "order_items")
DIALECTS = ("postgres", "sqlite")
FAMILIES = {
    "dml", "ddl", "multi_statement", "stacked_comments", "cte_write", "select_into", "copy", "file_functions",
    "large_objects", "dblink", "session_role", "transaction_escape", "locking", "procedural", "maintenance",
    "listen_notify", "sqlite_attach", "sqlite_pragma", "sqlite_vacuum_into", "sqlite_extension", "comment_literal",
    "unicode_lookalike", "system_catalog", "side_effect_function", "resource",
}  # fmt: skip


def refused(sql: str, dialect: str, **kwargs) -> SqlRefused:
    kwargs.setdefault("tables", DEMO_TABLES)
    with pytest.raises(SqlRefused) as caught:
        check(sql, dialect=dialect, **kwargs)
    return caught.value


# --- the suites -----------------------------------------------------------------------------------------------


def test_hostile_suite_covers_every_family():
    assert len(HOSTILE) >= 150
    assert {h.family for h in HOSTILE} == FAMILIES
    assert all(h.expected in ("gate", "runner") for h in HOSTILE)
    assert all(h.dialects == DIALECTS for h in HOSTILE if h.expected == "gate")
    assert all(h.rule_for(d) in gate.RULES for h in HOSTILE if h.expected == "gate" for d in DIALECTS)
    assert len({h.sql for h in HOSTILE}) == len(HOSTILE)


GATE_CASES = [(h, d) for h in HOSTILE if h.expected == "gate" for d in h.dialects]


@pytest.mark.parametrize(("case", "dialect"), GATE_CASES, ids=[f"{d}-{i}" for i, (_, d) in enumerate(GATE_CASES)])
def test_hostile_statement_is_refused_by_the_expected_rule(case, dialect):
    error = refused(case.sql, dialect)
    assert error.rule == case.rule_for(dialect), error.message
    assert error.details == {"rule": error.rule}
    assert error.code == "SQL_REFUSED"
    # plain words: no parser internals, no echo of the statement
    assert len(error.message) < 160
    for internal in ("sqlglot", "Error", "Traceback", "Expression", "Anonymous", "\x1b[", "Line 1"):
        assert internal not in error.message


RUNNER_CASES = [(h, d) for h in HOSTILE if h.expected == "runner" for d in h.dialects]


@pytest.mark.parametrize(("case", "dialect"), RUNNER_CASES, ids=[f"{d}-{i}" for i, (_, d) in enumerate(RUNNER_CASES)])
def test_runner_cases_are_read_only_selects_the_gate_lets_through(case, dialect):
    """Marked ``runner``: valid reads only a timeout or a cap can stop; the label would lie if the gate refused."""
    checked = check(case.sql, dialect=dialect, tables=DEMO_TABLES)
    tree = sqlglot.parse_one(checked.sql, read=dialect)
    assert isinstance(tree, (exp.Select, exp.Union))
    assert not list(tree.find_all(exp.Insert, exp.Update, exp.Delete, exp.Create, exp.Drop))


def test_benign_suite_has_thirty_queries_for_each_engine():
    for dialect in DIALECTS:
        assert sum(dialect in b.dialects for b in BENIGN) >= 30
    assert len({b.name for b in BENIGN}) == len(BENIGN)


BENIGN_CASES = [(b, d) for b in BENIGN for d in b.dialects]


@pytest.mark.parametrize(("query", "dialect"), BENIGN_CASES, ids=[f"{d}-{b.name}" for b, d in BENIGN_CASES])
def test_benign_query_is_accepted(query, dialect):
    checked = check(query.sql, dialect=dialect, tables=DEMO_TABLES)
    assert isinstance(checked, CheckedSQL)
    assert checked.dialect == dialect
    assert set(checked.tables) <= set(DEMO_TABLES)
    # what runs is stable: checking it again gives it back unchanged
    assert check(checked.sql, dialect=dialect, tables=DEMO_TABLES) == checked


def test_benign_sqlite_queries_run_on_sqlite_as_regenerated():
    """The regenerated SQL is valid SQLite (the runners' tests check the rows on both engines)."""
    db = sqlite3.connect(":memory:")
    db.executescript(
        """
        CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, country TEXT, created_at TEXT);
        CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, category TEXT, price REAL);
        CREATE TABLE employees (id INTEGER PRIMARY KEY, name TEXT, department TEXT, salary REAL, hired_at TEXT);
        CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INT, employee_id INT, status TEXT, total REAL,
                             ordered_at TEXT);
        CREATE TABLE order_items (id INTEGER PRIMARY KEY, order_id INT, product_id INT, quantity INT, price REAL);
        """
    )
    for query in BENIGN:
        if "sqlite" in query.dialects:
            db.execute(check(query.sql, dialect="sqlite", tables=DEMO_TABLES).sql).fetchall()


# --- each layer alone -----------------------------------------------------------------------------------------


def test_layer_1_alone_stops_a_write_hidden_in_a_cte():
    tree = parse_statement("WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d", "postgres")
    assert check_functions(tree, "postgres") == ()  # no function to refuse
    assert check_tables(tree, "postgres", DEMO_TABLES) == ("orders",)  # a table it may read
    with pytest.raises(SqlRefused) as caught:
        check_statement(tree)
    assert caught.value.rule == "write_node"


@pytest.mark.parametrize(
    ("sql", "rule"),
    [
        ("SELECT * INTO stolen FROM orders", "into"),
        ("SELECT * FROM orders FOR UPDATE", "locking"),
        ("SELECT * FROM (SELECT * FROM orders FOR SHARE) s", "locking"),
        ("VACUUM", "command"),
        ("COMMIT", "transaction"),
        ("SET TRANSACTION READ WRITE", "session"),
        ("VALUES (1)", "select_only"),
        ("SELECT 1 UNION ALL SELECT * FROM (UPDATE orders SET total = 0 RETURNING total) u", None),
    ],
)
def test_layer_1_alone(sql, rule):
    try:
        tree = parse_statement(sql, "postgres")
    except SqlRefused as error:  # some writes do not even parse as a SELECT's part
        assert rule is None and error.rule == "parse"
        return
    with pytest.raises(SqlRefused) as caught:
        check_statement(tree)
    assert caught.value.rule == rule


def test_layer_2_alone_stops_pg_sleep():
    tree = parse_statement("SELECT pg_sleep(10) FROM orders", "postgres")
    check_statement(tree)  # a plain SELECT
    assert check_tables(tree, "postgres", DEMO_TABLES) == ("orders",)
    with pytest.raises(SqlRefused) as caught:
        check_functions(tree, "postgres")
    assert caught.value.rule == "function"
    assert caught.value.message == "The function pg_sleep is not allowed"


def test_layer_3_alone_stops_pg_shadow():
    tree = parse_statement("SELECT usename, passwd FROM pg_shadow", "postgres")
    check_statement(tree)
    assert check_functions(tree, "postgres") == ()
    with pytest.raises(SqlRefused) as caught:
        check_tables(tree, "postgres", DEMO_TABLES)
    assert caught.value.rule == "system_catalog"
    assert "pg_shadow" in caught.value.message


def test_layer_3_alone_stops_a_table_outside_the_schema():
    tree = parse_statement("SELECT * FROM orders JOIN secrets ON true", "sqlite")
    check_statement(tree)
    check_functions(tree, "sqlite")
    with pytest.raises(SqlRefused) as caught:
        check_tables(tree, "sqlite", DEMO_TABLES)
    assert caught.value.rule == "table"
    assert caught.value.message == "The table secrets is not available in this data source"


# --- layer 1 details ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_empty_and_comment_only_statements_are_refused(dialect):
    for sql in ("", "   ", ";", "-- nothing", "/* nothing */;"):
        assert refused(sql, dialect).rule == "single_statement"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_trailing_semicolon_and_comments_are_fine_and_not_passed_on(dialect):
    checked = check("SELECT count(*) FROM orders; -- done\n", dialect=dialect, tables=DEMO_TABLES)
    assert checked.sql == "SELECT COUNT(*) FROM orders"


def test_length_cap():
    at_cap = "SELECT 1" + " " * (gate.MAX_SQL_CHARS - len("SELECT 1"))
    assert check(at_cap, dialect="sqlite", tables=()).sql == "SELECT 1"
    error = refused(at_cap + " ", "sqlite")
    assert error.rule == "too_long"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_deep_nesting_is_refused_not_crashed(dialect):
    sql = "SELECT " + "(" * 4000 + "1" + ")" * 4000
    assert refused(sql, dialect).rule in ("parse", "unsupported")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_names_that_are_not_plain_words_must_be_quoted(dialect):
    assert refused("SELECT 1 AS a\u200b", dialect).rule == "identifier"
    assert refused("SELECT $1x FROM orders", dialect).rule in ("identifier", "expression")
    # letters of any alphabet are plain words: Arabic names work quoted or not
    check('SELECT name AS "الاسم", name AS الاسم FROM customers', dialect=dialect, tables=DEMO_TABLES)


def test_refusal_messages_never_echo_the_statement():
    error = refused("SELECT FROM WHERE secret_token_123 ((", "postgres")
    assert error.rule == "parse"
    assert "secret_token_123" not in error.message


def test_names_shown_in_messages_are_printable_and_short():
    error = refused('SELECT * FROM "a\nb\x1b[31m' + "x" * 200 + '"', "postgres")
    assert error.rule == "table"
    assert "\n" not in error.message and "\x1b" not in error.message
    assert len(error.message) < 140


def test_command_fallback_warnings_are_not_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="sqlglot"):
        refused("VACUUM INTO '/tmp/mv_marker_log.db'", "sqlite")
    assert "mv_marker_log" not in caplog.text


# --- literal and comment confusion: what runs is the regenerated statement ----------------------------------


@pytest.mark.parametrize(
    ("sql", "dialect", "runs"),
    [
        ("SELECT 1 /* ; DELETE FROM orders */", "postgres", "SELECT 1"),
        ("SELECT 1 -- ; DELETE FROM orders", "sqlite", "SELECT 1"),
        ("SELECT 1 /* /* nested */ ; DELETE FROM orders */", "postgres", "SELECT 1"),
        ("SELECT $$; DELETE FROM orders; $$", "postgres", "SELECT '; DELETE FROM orders; '"),
        ("SELECT 'it''s; DROP TABLE orders'", "sqlite", "SELECT 'it''s; DROP TABLE orders'"),
        ("SELECT\u00a01", "postgres", "SELECT 1"),
    ],
)
def test_writes_inside_comments_and_literals_stay_inert(sql, dialect, runs):
    assert check(sql, dialect=dialect, tables=DEMO_TABLES).sql == runs


# --- layer 2 details ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "name"),
    [
        ("SELECT pg_sleep(1)", "pg_sleep"),
        ("SELECT PG_SLEEP(1)", "pg_sleep"),
        ('SELECT "PG_SLEEP"(1)', "PG_SLEEP"),
        ('SELECT "pg_sleep"(1)', "pg_sleep"),
        ("SELECT pg_catalog.pg_sleep(1)", "pg_sleep"),
        ('SELECT "pg_catalog"."pg_sleep"(1)', "pg_sleep"),
        ("SELECT public.lower('x')", "public.lower"),
        ("SELECT evil.lower('x')", "evil.lower"),
        ("SELECT * FROM evil.generate_series(1, 2) AS s", "evil.generate_series"),
        ("SELECT user", "user"),
        ("SELECT current_role", "current_role"),
        ("SELECT try_cast('1' AS int)", "try_cast"),
    ],
)
def test_functions_are_matched_on_their_normalised_name(sql, name):
    error = refused(sql, "postgres")
    assert error.rule == "function"
    assert error.message == f"The function {name} is not allowed"


def test_allowed_functions_may_be_qualified_with_pg_catalog_only():
    checked = check("SELECT pg_catalog.lower(name) FROM customers", dialect="postgres", tables=DEMO_TABLES)
    assert checked.functions == ("lower",)
    assert refused("SELECT main.lower(name) FROM customers", "sqlite").rule == "function"


def test_quoted_column_named_like_a_session_function_is_a_column():
    check('SELECT "user" FROM orders', dialect="postgres", tables=DEMO_TABLES)
    check("SELECT o.user FROM orders o", dialect="postgres", tables=DEMO_TABLES)


def test_functions_are_reported():
    checked = check(
        "SELECT lower(name), count(*), coalesce(email, '') FROM customers GROUP BY 1, 3",
        dialect="sqlite",
        tables=DEMO_TABLES,
    )
    assert checked.functions == ("coalesce", "count", "lower")


@pytest.mark.parametrize(
    ("sql", "ok"),
    [
        ("SELECT CAST(total AS numeric(10, 2)) FROM orders", True),
        ("SELECT ordered_at::date, ordered_at::timestamptz, '1 day'::interval FROM orders", True),
        ("SELECT ARRAY[1, 2]::int[]", True),
        ("SELECT 'orders'::regclass", False),
        ("SELECT 1::oid", False),
        ("SELECT '0/0'::pg_lsn", False),
        ("SELECT CAST(name AS evil_type) FROM customers", False),
    ],
)
def test_cast_targets_are_an_allow_list(sql, ok):
    if ok:
        check(sql, dialect="postgres", tables=DEMO_TABLES)
    else:
        assert refused(sql, "postgres").rule == "type"


@pytest.mark.parametrize(
    ("sql", "ok"),
    [
        ("SELECT * FROM generate_series(1, 100000) AS s", True),
        ("SELECT * FROM generate_series(100000, 1, -1) AS s", True),
        ("SELECT * FROM generate_series(-5, 5, 2) AS s", True),
        ("SELECT * FROM generate_series(1, 100001) AS s", False),
        ("SELECT * FROM generate_series(1, 10, 0) AS s", False),
        ("SELECT * FROM generate_series(1, 2e9) AS s", False),
        ("SELECT * FROM generate_series(1, id) AS s, orders", False),
        ("SELECT * FROM generate_series(DATE '2024-01-01', DATE '2024-12-31', INTERVAL '1 day') AS d", True),
        ("SELECT * FROM generate_series(now(), now() + INTERVAL '1 day', INTERVAL '1 hour') AS d", False),
        ("SELECT repeat('-', 40), lpad(name, 20, '.') FROM customers", True),
        ("SELECT repeat('-', 10001)", False),
        ("SELECT lpad(name, length(name) * 100000) FROM customers", False),
    ],
)
def test_resource_rules_on_literal_sizes(sql, ok):
    if ok:
        check(sql, dialect="postgres", tables=DEMO_TABLES)
    else:
        assert refused(sql, "postgres").rule == "resource"


# --- layer 3 details ------------------------------------------------------------------------------------------


def test_tables_are_reported_as_the_schema_names_them():
    tables = {"Orders": {}, "public.Customers": {}}
    checked = check(
        "SELECT * FROM orders o JOIN public.customers c ON c.id = o.customer_id JOIN customers c2 ON true",
        dialect="postgres",
        tables=tables,
    )
    assert checked.tables == ("Orders", "public.Customers")


def test_schema_qualified_tables_need_the_default_schema_or_the_schema_listed():
    assert check("SELECT * FROM main.orders", dialect="sqlite", tables=DEMO_TABLES).tables == ("orders",)
    assert refused("SELECT * FROM sales.orders", "postgres").rule == "table"
    checked = check("SELECT * FROM sales.orders", dialect="postgres", tables=["sales.orders"])
    assert checked.tables == ("sales.orders",)
    assert refused("SELECT * FROM orders", "postgres", tables=["sales.orders"]).rule == "table"


@pytest.mark.parametrize(
    ("sql", "ok"),
    [
        ("WITH secrets AS (SELECT 1 AS x) SELECT * FROM secrets", True),
        ("WITH a AS (SELECT 1 AS x), b AS (SELECT * FROM a) SELECT * FROM b", True),
        ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r", True),
        ("SELECT * FROM (WITH secrets AS (SELECT 1 AS x) SELECT * FROM secrets) s", True),
        # a CTE is seen only inside its WITH: these read the real relation
        ("SELECT * FROM (WITH secrets AS (SELECT 1 AS x) SELECT * FROM secrets) s, secrets", False),
        ("WITH secrets AS (SELECT * FROM secrets) SELECT * FROM secrets", False),
        ("WITH b AS (SELECT * FROM a), a AS (SELECT 1 AS x) SELECT * FROM b", False),
        ("SELECT * FROM secrets WHERE EXISTS (WITH secrets AS (SELECT 1) SELECT 1)", False),
    ],
)
def test_cte_names_are_not_tables_only_where_they_are_visible(sql, ok):
    if ok:
        check(sql, dialect="sqlite", tables=DEMO_TABLES)
    else:
        assert refused(sql, "sqlite").rule == "table"


def test_system_catalogs_only_when_the_source_allows_them():
    sql = "SELECT c.relname FROM pg_catalog.pg_class c JOIN information_schema.tables t ON t.table_name = c.relname"
    assert refused(sql, "postgres").rule == "system_catalog"
    checked = check(sql, dialect="postgres", tables=DEMO_TABLES, allow_system_catalogs=True)
    assert checked.tables == ("information_schema.tables", "pg_catalog.pg_class")
    assert check("SELECT name FROM sqlite_master", dialect="sqlite", tables=(), allow_system_catalogs=True)
    # an unqualified pg_* name is pg_catalog's even if a listed table has it: PostgreSQL searches pg_catalog first
    assert refused("SELECT * FROM pg_notes", "postgres", tables=["pg_notes"]).rule == "system_catalog"
    assert check("SELECT * FROM public.pg_notes", dialect="postgres", tables=["pg_notes"]).tables == ("pg_notes",)


def test_tables_none_skips_the_schema_check_but_not_the_catalog_rule():
    assert check("SELECT * FROM anything", dialect="sqlite", tables=None).tables == ("anything",)
    assert refused("SELECT * FROM sqlite_master", "sqlite", tables=None).rule == "system_catalog"


# --- the dialect argument -------------------------------------------------------------------------------------


def test_engine_names_map_to_dialects():
    assert check("SELECT 1", dialect="postgresql", tables=()).dialect == "postgres"
    assert check("SELECT 1", dialect="SQLite", tables=()).dialect == "sqlite"
    with pytest.raises(ValueError):
        check("SELECT 1", dialect="mysql", tables=())
