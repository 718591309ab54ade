"""Cost of the read-only SQL gate (agent/sql/gate.py) per statement, both dialects, in one run.

::

    .venv/bin/python bench/sql_gate.py                 # 50 rounds over the benign and hostile suites
    .venv/bin/python bench/sql_gate.py --rounds 200

For each dialect it times ``check()`` on every query of the benign suite (agent/tests/sql/benign.py) that is
written for that dialect, ``--rounds`` times after one warm-up round, and reports p50 and p95 in ms (issue 14's
goal: p50 under 2 ms), next to sqlglot's bare ``parse`` of the same text (the floor the gate builds on: the
rest is the node walk, the three layers, regeneration and the read-back of the regenerated SQL). It also
reports the refusal path over the gate-refused statements of the hostile suite. Pure CPU: no database, no
file written, nothing left behind.
"""

import sys
from pathlib import Path

sys.dont_write_bytecode = True  # write nothing to the repository, not even __pycache__
BASE_DIR = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BASE_DIR / "bench"]
sys.path.insert(0, str(BASE_DIR))

import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import sqlglot  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "majed_vanna.settings.test")

from agent.sql.gate import check  # noqa: E402
from agent.sql.types import SqlRefused  # noqa: E402
from agent.tests.sql.benign import BENIGN  # noqa: E402
from agent.tests.sql.hostile import HOSTILE  # noqa: E402

DEMO_TABLES = ("customers", "products", "employees", "orders", "order_items")
GOAL_P50_MS = 2.0


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(fn, statements: list[str], rounds: int) -> list[float]:
    for sql in statements:  # warm-up: imports, sqlglot's lazy tables
        fn(sql)
    samples = []
    for _ in range(rounds):
        for sql in statements:
            start = time.perf_counter()
            fn(sql)
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=50, help="timed passes over each suite (default 50)")
    args = parser.parse_args()
    rounds = max(1, min(args.rounds, 10_000))

    print(f"SQL gate, sqlglot {sqlglot.__version__}, Python {platform.python_version()}, {rounds} rounds")
    print(f"{'dialect':<9} {'path':<22} {'stmts':>5} {'p50 ms':>8} {'p95 ms':>8}")
    met = True
    for dialect in ("sqlite", "postgres"):
        benign = [b.sql for b in BENIGN if dialect in b.dialects]
        hostile = [h.sql for h in HOSTILE if h.expected == "gate"]

        def accept(sql, dialect=dialect):
            check(sql, dialect=dialect, tables=DEMO_TABLES)

        def refuse(sql, dialect=dialect):
            try:
                check(sql, dialect=dialect, tables=DEMO_TABLES)
            except SqlRefused:
                return
            raise AssertionError(f"the gate accepted a hostile statement: {sql!r}")

        def parse_only(sql, dialect=dialect):
            sqlglot.parse(sql, read=dialect)

        rows = [
            ("check(), benign", benign, timed(accept, benign, rounds)),
            ("sqlglot.parse, benign", benign, timed(parse_only, benign, rounds)),
            ("check(), hostile", hostile, timed(refuse, hostile, rounds)),
        ]
        for label, statements, samples in rows:
            p50, p95 = percentile(samples, 0.50), percentile(samples, 0.95)
            print(f"{dialect:<9} {label:<22} {len(statements):>5} {p50:>8.3f} {p95:>8.3f}")
            if label == "check(), benign" and p50 >= GOAL_P50_MS:
                met = False
    print(f"goal: check() p50 on the benign suite under {GOAL_P50_MS} ms per statement: {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
