"""The SQL runners' overhead against a bare driver call on the same query, both engines, in one run.

::

    .venv/bin/python bench/sql_runner.py                                  # SQLite only
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mv .venv/bin/python bench/sql_runner.py   # and PostgreSQL

For each engine and query it times, one call at a time, ``agent.sql.runners.run()`` (breaker, guards,
read-only transaction, caps, JSON-safe values; SQLite on the ``sql`` thread lane) against the bare driver:
SQLite ``sqlite3.connect`` + ``execute`` + ``fetchall`` + ``close`` on the calling thread; PostgreSQL an
already-open ``psycopg.AsyncConnection``'s ``execute`` + ``fetchall`` (autocommit, simple protocol).
The two take turns in blocks of ten so that machine noise hits both alike. It prints p50 and p95 in ms, the
p50 ratio and the p50 difference. The SQLite file lives in a temporary directory; on PostgreSQL it works in
a scratch database ``<name>_bench_runner`` on that server, created afresh and dropped at the end.
"""

import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BASE_DIR / "bench"]
sys.path.insert(0, str(BASE_DIR))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import os  # noqa: E402
import sqlite3  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "majed_vanna.settings.test")
os.environ.setdefault("MV_DATA_DIR", tempfile.mkdtemp(prefix="mv-bench-runner-"))

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402

from agent.sql.runners import close_pools, run  # noqa: E402
from agent.sql.types import CheckedSQL, DataSourceSpec  # noqa: E402

BLOCK = 10
QUERIES = {
    "1 row": ("SELECT id, name, country FROM customers WHERE id = 7", ("customers",)),
    "200 rows, join": (
        "SELECT o.id, c.name, o.total, o.status FROM orders o JOIN customers c ON c.id = o.customer_id "
        "WHERE o.id <= 200 ORDER BY o.id",
        ("orders", "customers"),
    ),
    "aggregate": ("SELECT status, count(*), sum(total) FROM orders GROUP BY status ORDER BY status", ("orders",)),
}
SCHEMA = [
    "CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL, country text)",
    "CREATE TABLE orders (id integer PRIMARY KEY, customer_id integer NOT NULL REFERENCES customers(id), "
    "total numeric(10, 2), status text)",
]
CUSTOMERS = [(i, f"Customer {i}", ("SA", "AE", "EG", None)[i % 4]) for i in range(1, 201)]
ORDERS = [
    (i, 1 + i % 200, round(10 + (i * 37) % 250 + 0.25, 2), ("pending", "shipped", "delivered", "cancelled")[i % 4])
    for i in range(1, 5001)
]


def p50(values):
    return statistics.median(values)


def p95(values):
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


async def measure(rounds: int, runner, bare) -> tuple[list[float], list[float]]:
    for _ in range(BLOCK):  # warm-up: pools, caches, prepared statements
        await runner()
        await bare()
    timings = ([], [])
    while len(timings[0]) < rounds:
        for index, call in enumerate((runner, bare)):
            for _ in range(BLOCK):
                started = time.perf_counter()
                await call()
                timings[index].append((time.perf_counter() - started) * 1000)
    return timings


def sqlite_source(directory: Path) -> DataSourceSpec:
    path = directory / "bench.sqlite3"
    conn = sqlite3.connect(path)
    for statement in SCHEMA:
        conn.execute(statement)
    conn.executemany("INSERT INTO customers VALUES (?, ?, ?)", CUSTOMERS)
    conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", ORDERS)
    conn.commit()
    conn.close()
    return DataSourceSpec(id="bench-sqlite", name="bench", engine="sqlite", url=f"sqlite:///{path}")


def pg_admin(dbname: str) -> str:
    db = settings.DATABASES["default"]
    return psycopg.conninfo.make_conninfo(
        host=db.get("HOST") or "localhost",
        port=db.get("PORT") or 5432,
        user=db.get("USER") or "postgres",
        dbname=dbname,
        **({"password": db["PASSWORD"]} if db.get("PASSWORD") else {}),
    )


def pg_source() -> tuple[DataSourceSpec, str, str]:
    name = f"{settings.DATABASES['default']['NAME']}_bench_runner"[:63]
    with psycopg.connect(pg_admin("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    conninfo = pg_admin(name)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for statement in SCHEMA:
            conn.execute(statement)
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO customers VALUES (%s, %s, %s)", CUSTOMERS)
            cursor.executemany("INSERT INTO orders VALUES (%s, %s, %s, %s)", ORDERS)
        conn.execute("ANALYZE")
    params = psycopg.conninfo.conninfo_to_dict(conninfo)
    auth = params["user"] + (f":{params['password']}" if params.get("password") else "")
    url = f"postgresql://{auth}@{params['host']}:{params['port']}/{name}"
    return DataSourceSpec(id="bench-pg", name="bench", engine="postgresql", url=url), conninfo, name


def drop_pg(name: str) -> None:
    with psycopg.connect(pg_admin("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def bench_sqlite(spec: DataSourceSpec, rounds: int) -> list[tuple]:
    path = spec.url.removeprefix("sqlite:///")
    rows = []
    for label, (sql, tables) in QUERIES.items():
        checked = CheckedSQL(sql=sql, dialect="sqlite", tables=tables)

        async def runner(checked=checked):
            await run(spec, checked)

        async def bare(sql=sql):
            conn = sqlite3.connect(path)
            conn.execute(sql).fetchall()
            conn.close()

        rows.append(("sqlite", label, *await measure(rounds, runner, bare)))
    return rows


async def bench_pg(spec: DataSourceSpec, conninfo: str, rounds: int) -> list[tuple]:
    rows = []
    conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
    try:
        for label, (sql, tables) in QUERIES.items():
            checked = CheckedSQL(sql=sql, dialect="postgres", tables=tables)

            async def runner(checked=checked):
                await run(spec, checked)

            async def bare(sql=sql):
                await (await conn.execute(sql)).fetchall()

            rows.append(("postgresql", label, *await measure(rounds, runner, bare)))
    finally:
        await conn.close()
        await close_pools()
    return rows


def report(rows: list[tuple]) -> None:
    print(
        f"{'engine':<11} {'query':<15} {'runner p50':>10} {'p95':>7} {'bare p50':>9} {'p95':>7} {'ratio':>6} {'+ms':>6}"
    )
    for engine, label, runner, bare in rows:
        print(
            f"{engine:<11} {label:<15} {p50(runner):>10.3f} {p95(runner):>7.3f} {p50(bare):>9.3f} {p95(bare):>7.3f} "
            f"{p50(runner) / p50(bare):>6.2f} {p50(runner) - p50(bare):>6.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=300, help="calls per query and side (default 300)")
    args = parser.parse_args()
    rounds = max(BLOCK, args.rounds)
    rows = []
    with tempfile.TemporaryDirectory(prefix="mv-bench-runner-") as directory:
        rows += asyncio.run(bench_sqlite(sqlite_source(Path(directory)), rounds))
    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        spec, conninfo, name = pg_source()
        try:
            rows += asyncio.run(bench_pg(spec, conninfo, rounds))
        finally:
            drop_pg(name)
    else:
        print("(PostgreSQL skipped: set DATABASE_URL to a PostgreSQL server to measure it too)")
    report(rows)


if __name__ == "__main__":
    main()
