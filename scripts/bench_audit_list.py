"""p50/p95 of ``GET audit-logs`` at 1,000 and 1,000,000 audit rows (PostgreSQL), to show a page stays flat.

Usage (a scratch PostgreSQL server; the script creates and fills one database per size, ``<name>_r<rows>``):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mv_bench MV_DATA_DIR=$(mktemp -d) \\
        .venv/bin/python scripts/bench_audit_list.py [--rows 1000,1000000] [--requests 300]

Requests go through the whole Django stack in-process (middleware, authentication, envelope), without a server,
so the figures are the application's cost per request. The sizes are measured interleaved, request by request
(each size has its own database), so a busy machine slows them alike and the ratio stays meaningful. Rows come
from ``generate_series``: 20 actions, 500 actors, 6 resources, one row a second. The script also times the
``COUNT(*)`` the list used to run on every page.
"""

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "majed_vanna.settings.test")

import django

django.setup()

from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test import Client  # noqa: E402
from rest_framework_simplejwt.tokens import RefreshToken  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.selectors import audit_log_list  # noqa: E402

CASES = {
    "page 1": {},
    "action=": {"action": "bench.action_7"},
    "user_id=": {"user_id": "actor-42"},
    "resource= since=": {"resource": "res_3", "since": "2020-01-01T00:00:00Z"},
    "page 5": {"page": 5},
}


ADMIN_ID = uuid.UUID("00000000-0000-4000-8000-00000000b001")


def use_database(name: str) -> None:
    """Point the ``default`` connection of this thread at database ``name`` (one per size)."""
    base = connections["default"]
    if base.settings_dict["NAME"] != name:
        connections["default"] = base.__class__({**base.settings_dict, "NAME": name}, alias="default")


def prepare(name: str, rows: int) -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    use_database(name)
    call_command("migrate", verbosity=0)
    User.objects.get_or_create(id=ADMIN_ID, defaults={"username": "bench-admin@example.com", "role": "admin"})
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts_auditlog")
        if cursor.fetchone()[0] == rows:
            return
        cursor.execute("TRUNCATE accounts_auditlog")
        cursor.execute(
            """
            INSERT INTO accounts_auditlog (timestamp, user_id, username, action, resource, resource_id, details,
                                           user_agent, request_id, success, error_message)
            SELECT now() - make_interval(secs => g), 'actor-' || (g %% 500), 'a' || (g %% 500) || '@example.com',
                   'bench.action_' || (g %% 20), 'res_' || (g %% 6), g::text, '{}'::jsonb, 'bench', 'req',
                   g %% 10 <> 0, ''
            FROM generate_series(1, %s) AS g
            """,
            [rows],
        )
        cursor.execute("VACUUM ANALYZE accounts_auditlog")  # statistics for the planner, visibility for the count


class SqlTimer:
    """Wall time spent in SQL during one request (``connection.execute_wrapper``)."""

    def __init__(self):
        self.ms = 0.0

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.ms += (time.perf_counter() - start) * 1000


def one_request(client: Client, params: dict) -> tuple[float, float, dict]:
    """The whole request's wall time and the part spent in SQL (ms), and the page's data."""
    cache.clear()  # the list's rate limit would stop the run; cleared outside the timed part
    timer = SqlTimer()
    start = time.perf_counter()
    with connection.execute_wrapper(timer):
        response = client.get("/api/v1/audit-logs", params)
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, response.content[:300]
    return elapsed, timer.ms, response.json()["data"]


def old_count_ms(params: dict) -> float:
    queryset = audit_log_list(params=params)
    start = time.perf_counter()
    queryset.count()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000,1000000")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a scratch PostgreSQL database.")
    sizes = [int(n) for n in args.rows.split(",")]
    base_name = connection.settings_dict["NAME"]
    databases = {rows: f"{base_name}_r{rows}" for rows in sizes}
    for rows, name in databases.items():
        use_database(base_name)
        prepare(name, rows)
    admin = User(id=ADMIN_ID, username="bench-admin@example.com", role="admin")
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(admin).access_token}")
    p50 = {}
    for case, params in CASES.items():
        samples = {rows: ([], []) for rows in sizes}
        for round_ in range(args.requests + 20):
            for rows in sizes:  # interleaved: the machine's load falls on every size alike
                use_database(databases[rows])
                elapsed, sql, data = one_request(client, params)
                if round_ >= 20:  # the first rounds warm up
                    samples[rows][0].append(elapsed)
                    samples[rows][1].append(sql)
        for rows in sizes:
            use_database(databases[rows])
            total, sql = samples[rows]
            data = one_request(client, params)[2]
            p50[rows, case] = statistics.median(total)
            print(
                f"{rows:>9} rows  {case:<18} p50 {statistics.median(total):6.2f} ms  "
                f"p95 {statistics.quantiles(total, n=20)[18]:6.2f} ms  (SQL p50 {statistics.median(sql):5.2f} ms)  "
                f"total {data['total']:>8} estimate={data['total_is_estimate']!s:<5}  "
                f"the old COUNT(*) alone: {old_count_ms(params):6.2f} ms"
            )
    if len(sizes) == 2:
        small, large = sorted(sizes)
        for case in CASES:
            print(f"p50 at {large} / at {small} rows, {case:<18}: {p50[large, case] / p50[small, case]:.2f}x")


if __name__ == "__main__":
    main()
