"""Property-based tests of the SQL gate (issue 14): a statement containing a write anywhere is never accepted,
and whatever the gate accepts, wherever a write was spliced in, performs no write when SQLite runs it."""

import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.sql.gate import check
from agent.sql.types import SqlRefused
from agent.tests.sql.benign import BENIGN

DEMO_TABLES = ("customers", "products", "employees", "orders", "order_items")
DIALECTS = ("postgres", "sqlite")
PORTABLE = [b.sql for b in BENIGN if b.dialects == DIALECTS]

# Data-modifying statements that may carry RETURNING (so they fit in a CTE or a subquery)...
DML = [
    "DELETE FROM orders",
    "DELETE FROM order_items WHERE quantity > 0",
    "UPDATE orders SET total = 0",
    "UPDATE customers SET email = NULL WHERE id = 1",
    "INSERT INTO customers (id, name) VALUES (424242, 'mallory')",
    "INSERT INTO orders SELECT * FROM orders",
]
# ...and every other kind of write or escape.
WRITES = [
    *DML,
    "DROP TABLE orders",
    "TRUNCATE orders",
    "CREATE TABLE mv_marker_property (x int)",
    "ALTER TABLE orders ADD COLUMN pwned int",
    "CREATE INDEX mv_marker_idx ON orders (total)",
    "COPY orders TO '/tmp/mv_marker_property'",
    "GRANT ALL ON orders TO PUBLIC",
    "MERGE INTO orders o USING customers c ON o.customer_id = c.id WHEN MATCHED THEN DELETE",
    "ATTACH DATABASE '/tmp/mv_marker_property.db' AS evil",
    "VACUUM INTO '/tmp/mv_marker_property.db'",
    "PRAGMA query_only = 0",
    "SET TRANSACTION READ WRITE",
    "COMMIT",
    "DO $$ BEGIN DELETE FROM orders; END $$",
    "SELECT * INTO mv_marker_into FROM orders",
    "SELECT * FROM orders FOR UPDATE",
]

junk = st.text(alphabet=st.characters(blacklist_characters="*/\n'\x00", blacklist_categories=("Cs",)), max_size=20)
case = st.sampled_from([str, str.lower, str.upper])
space = st.sampled_from([" ", "  ", "\n", "\t", " /**/ ", "\r\n"])


@st.composite
def with_a_write(draw) -> str:
    """A benign query with a write put somewhere the database would run it."""
    benign = draw(st.sampled_from(PORTABLE))
    write = draw(case)(draw(st.sampled_from(WRITES)))
    dml = draw(case)(draw(st.sampled_from(DML)))
    sep = draw(space)
    text = draw(junk)
    positions = [
        f"WITH w AS ({dml} RETURNING *){sep}{benign}",
        f"WITH a AS (SELECT 1 AS x),{sep}w AS ({dml} RETURNING *) SELECT * FROM a",
        f"WITH w AS ({benign}){sep}{write}",
        f"SELECT * FROM ({dml} RETURNING *) AS s",
        f"SELECT * FROM orders WHERE id IN ({dml} RETURNING id)",
        f"SELECT (SELECT 1 FROM ({dml} RETURNING 1) AS s) AS x",
        f"SELECT id FROM orders UNION ALL{sep}({dml} RETURNING id)",
        f"SELECT 1 UNION ALL SELECT * FROM ({dml} RETURNING 1) AS s",
        f"{benign};{sep}{write}",
        f"{write};{sep}{benign}",
        f"{benign} /* {text} */ ;{sep}{write}",
        f"{benign} -- {text}\n;{sep}{write}",
        f"SELECT '{text}';{sep}{write}; --'",
        f"/* {text} */{sep}{write}",
        f"-- {text}\n{write}",
        f"{write}",
    ]
    return draw(st.sampled_from(positions))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sql=with_a_write(), dialect=st.sampled_from(DIALECTS))
def test_a_statement_with_a_write_anywhere_is_never_accepted(sql, dialect):
    with pytest.raises(SqlRefused):
        check(sql, dialect=dialect, tables=DEMO_TABLES)


# --- a write spliced in at any character: if the gate accepts the result, it is inert -----------------------

_READS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}


@pytest.fixture(scope="module")
def demo_db():
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.executescript(
        """
        CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, country TEXT, created_at TEXT);
        CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, category TEXT, price REAL);
        CREATE TABLE employees (id INTEGER PRIMARY KEY, name TEXT, department TEXT, salary REAL, hired_at TEXT);
        CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INT, employee_id INT, status TEXT, total REAL,
                             ordered_at TEXT);
        CREATE TABLE order_items (id INTEGER PRIMARY KEY, order_id INT, product_id INT, quantity INT, price REAL);
        INSERT INTO customers VALUES (1, 'Ann', 'ann@example.com', 'Oman', '2024-01-02');
        INSERT INTO orders VALUES (1, 1, NULL, 'shipped', 120.5, '2024-02-03');
        """
    )
    return db


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_whatever_the_gate_accepts_performs_no_write_on_sqlite(demo_db, data):
    """An independent oracle: SQLite's own parser and authorizer, not sqlglot, judge what the gate passed on."""
    benign = data.draw(st.sampled_from(PORTABLE))
    write = data.draw(st.sampled_from(WRITES))
    at = data.draw(st.integers(min_value=0, max_value=len(benign)))
    glue = data.draw(st.sampled_from(["", " ", ";", "; ", "*/", "'", "';", "--\n", ")", ") ;", "\n"]))
    sql = benign[:at] + glue + write + glue + benign[at:]
    try:
        checked = check(sql, dialect="sqlite", tables=DEMO_TABLES)
    except SqlRefused:
        return
    asked: list[int] = []

    def authorizer(action, *_):
        asked.append(action)
        return sqlite3.SQLITE_OK if action in _READS else sqlite3.SQLITE_DENY

    demo_db.set_authorizer(authorizer)
    before = demo_db.total_changes
    try:
        demo_db.execute(checked.sql).fetchmany(5)  # one statement: sqlite3 refuses more than one
    except sqlite3.Error:
        pass  # an accepted statement may still be invalid SQL for SQLite; what matters is that it writes nothing
    finally:
        demo_db.set_authorizer(None)
    assert set(asked) <= _READS, checked.sql
    assert demo_db.total_changes == before
