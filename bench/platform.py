"""Per-request cost of the platform against a bare Django + DRF + simplejwt floor, measured in one run.

::

    .venv/bin/python bench/platform.py                                   # SQLite + in-process cache
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mv REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/platform.py --audit-rows 1000000          # PostgreSQL + Redis

It starts, on 127.0.0.1 only, one daphne process of Majed Vanna (production profile), one of the bare
project (``bench/bare``) over the same database, and a fake LLM provider; sends a bounded number of
requests to each, one at a time, the two servers taking turns in blocks so that machine noise hits both;
prints the ratios against the goals of issue 12; and stops everything. With a PostgreSQL ``DATABASE_URL``
it works in a scratch database ``<name>_bench`` on that server (created afresh, dropped at the end); with
``REDIS_URL`` its cache keys carry their own prefix and are deleted at the end. Nothing else is touched.

Figures: p50 (and p95) latency in ms as the client sees it. ``auth/me`` and the users list against the
floor (goal <= 1.15x); ``/health`` against ``/health/live`` (goal <= 3x); the audit list's first page at
``--audit-rows`` rows against 1,000 rows (goal <= 1.2x); ``/health/live`` p95 while twenty slow LLM
connection tests run (goal < 50 ms), over the whole span and over the window in which all twenty wait.
"""

import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder leads sys.path, where "platform" would shadow the standard library's.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BASE_DIR / "bench"]
sys.path.insert(0, str(BASE_DIR))

import argparse  # noqa: E402
import itertools  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from contextlib import ExitStack, closing  # noqa: E402
from urllib.parse import urlsplit, urlunsplit  # noqa: E402

import httpx  # noqa: E402
import jwt  # noqa: E402

from majed_vanna.tests.fake_llm import FakeLLMServer  # noqa: E402

DAPHNE = str(Path(sys.executable).with_name("daphne"))
ADMINS = 4  # the users list allows 100 requests an hour per caller: the measurements take turns between admins
PASSWORD = "Bench-platform-Pw-2024"
USERS = 60
BLOCK = 10  # requests per turn before the other server (or endpoint) takes its turn
SLOW_TESTS, SLOW_DELAY, STAGGER, POLLERS = 20, 3.0, 0.05, 4

SEED = f"""
from accounts.models import AuditLog, User
for n in range({ADMINS}):
    User.objects.create_superuser(username=f"bench-admin{{n}}@example.com", password={PASSWORD!r})
User.objects.filter(username__startswith="bench-admin").update(must_change_password=False)
others = [User(username=f"user{{n:03d}}@example.com", role="normal") for n in range({USERS})]
for user in others:
    user.set_unusable_password()
User.objects.bulk_create(others)
AuditLog.objects.bulk_create(
    AuditLog(action=("user.login", "user.update", "config.update")[n % 3], user_id=str(n % 50),
             username=f"user{{n % 50:03d}}@example.com", resource="user", resource_id=str(n), request_id=f"r{{n}}")
    for n in range(1000)
)
"""


# --- processes and databases


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(args: list[str], env: dict, *, timeout: float = 600) -> str:
    result = subprocess.run(args, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args[:3])} failed:\n{result.stdout[-2000:]}{result.stderr[-3000:]}")
    return result.stdout


def daphne(env: dict, app: str, log: Path, stack: ExitStack) -> str:
    port = free_port()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [DAPHNE, "-b", "127.0.0.1", "-p", str(port), app], cwd=BASE_DIR, env=env, stdout=out, stderr=out
        )
    stack.callback(stop, process)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"daphne {app} exited:\n{log.read_text()[-3000:]}")
        try:
            httpx.get(base + "/", timeout=2)
            return base
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"daphne {app} did not start:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def scratch_database(url: str | None, data_dir: Path, stack: ExitStack) -> str:
    """A fresh database for the run: ``<name>_bench`` on the PostgreSQL server of ``url``, else SQLite."""
    if not url or not url.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{data_dir / 'db.sqlite3'}"
    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'mv'}_bench"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    stack.callback(drop)
    return urlunsplit(parts._replace(path=f"/{name}"))


def forget_cache_keys(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        client.delete(key)


def grow_audit_log(env: dict, rows: int) -> None:
    """Double the audit table (every column copied, timestamps moved back) until it holds ``rows`` rows."""
    code = f"""
from django.db import connection
from accounts.models import AuditLog
table = AuditLog._meta.db_table
columns = [f.column for f in AuditLog._meta.concrete_fields if not f.primary_key]
postgres = connection.vendor == "postgresql"
while (count := AuditLog.objects.count()) < {rows}:
    take = min(count, {rows} - count)
    select = []
    for column in columns:
        if column == "timestamp":
            select.append(f"timestamp - ({{count}} * interval '1 second')" if postgres
                          else f"strftime('%Y-%m-%d %H:%M:%f', timestamp, '-{{count}} seconds')")
        else:
            select.append(f'"{{column}}"')
    names = ", ".join(f'"{{c}}"' for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f'INSERT INTO "{{table}}" ({{names}}) SELECT {{", ".join(select)}} FROM "{{table}}" '
                       f'ORDER BY id LIMIT {{take}}')
with connection.cursor() as cursor:
    cursor.execute("ANALYZE")
print(AuditLog.objects.count())
"""
    run([sys.executable, "manage.py", "shell", "-c", code], env, timeout=1800)


# --- measuring


def timed(client: httpx.Client, path: str) -> float:
    headers = next(client.rotating_headers) if hasattr(client, "rotating_headers") else None
    started = time.perf_counter()
    response = client.get(path, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"GET {path} answered {response.status_code}: {response.text[:300]}")
    return elapsed


def compare(pairs: dict[str, tuple[httpx.Client, str]], requests: int) -> dict[str, list[float]]:
    """Each (client, path) ``requests`` times, taking turns in blocks of ``BLOCK``; latencies in ms."""
    for client, path in pairs.values():  # warm up: connections, imports, caches
        for _ in range(5):
            timed(client, path)
    samples: dict[str, list[float]] = {name: [] for name in pairs}
    while min(len(values) for values in samples.values()) < requests:
        for name, (client, path) in pairs.items():
            for _ in range(min(BLOCK, requests - len(samples[name]))):
                samples[name].append(timed(client, path))
    return samples


def p50(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    if len(values) < 2:
        return float("nan")
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def slow_connection_tests(base: str, headers: dict, fake: FakeLLMServer) -> tuple[list[float], list[float]]:
    """``health/live`` latencies while twenty LLM connection tests wait on a slow provider: (whole span,
    window in which all twenty wait)."""
    import asyncio

    async def main():
        fake.delay = SLOW_DELAY
        samples: list[tuple[float, float]] = []
        done = asyncio.Event()

        async def poll(client):
            while not done.is_set():
                started = time.perf_counter()
                response = await client.get("/api/v1/health/live")
                samples.append((started, (time.perf_counter() - started) * 1000))
                if response.status_code != 200:
                    raise SystemExit(f"health/live answered {response.status_code}")
                await asyncio.sleep(0.01)

        async with (
            httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as tests_client,
            httpx.AsyncClient(base_url=base, timeout=10) as probe_client,
        ):
            pollers = [asyncio.create_task(poll(probe_client)) for _ in range(POLLERS)]
            started, tests, before = time.perf_counter(), [], len(fake.requests)
            for _ in range(SLOW_TESTS):
                tests.append(asyncio.create_task(tests_client.post("/api/v1/config/test-llm")))
                await asyncio.sleep(STAGGER)
            await asyncio.to_thread(fake.wait_for_requests, before + SLOW_TESTS, timeout=30)
            all_waiting = time.perf_counter()
            await asyncio.wait(tests, return_when=asyncio.FIRST_COMPLETED)
            first_answer = time.perf_counter()
            results = await asyncio.gather(*tests)
            done.set()
            await asyncio.gather(*pollers)
        bad = [r.status_code for r in results if r.status_code != 200 or r.json()["data"]["status"] != "success"]
        if bad:
            raise SystemExit(f"connection tests failed: {bad}")
        window = [latency for sent, latency in samples if all_waiting <= sent < first_answer]
        print(f"  all {SLOW_TESTS} tests waiting on the provider {all_waiting - started:.2f} s after the first started")
        return [latency for _, latency in samples], window

    return asyncio.run(main())


# --- the run


def line(name: str, value: float, goal: str, ok: bool) -> str:
    return f"  {name:<48} {value:>8.2f}   goal {goal:<9} {'ok' if ok else 'MISSED'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per endpoint and server (default 200)")
    parser.add_argument(
        "--audit-rows", type=int, default=1_000_000, help="audit rows of the large measurement (default 1000000)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the data directory (logs) after the run")
    args = parser.parse_args()
    if not 20 <= args.requests <= 300:
        parser.error("--requests must be between 20 and 300 (the endpoints' hourly rate limits)")
    if args.audit_rows < 1000:
        parser.error("--audit-rows must be at least 1000")

    data_dir = Path(tempfile.mkdtemp(prefix="mv-bench-"))
    prefix = f"mvbench{secrets.token_hex(4)}"
    redis_url = os.environ.get("REDIS_URL") or None
    with ExitStack() as stack:
        if not args.keep:
            stack.callback(shutil.rmtree, data_dir, True)
        else:
            print(f"data directory (logs): {data_dir}")
        if redis_url:
            stack.callback(forget_cache_keys, redis_url, prefix)
        database_url = scratch_database(os.environ.get("DATABASE_URL"), data_dir, stack)
        fake = FakeLLMServer().start()
        stack.callback(fake.stop)
        secret = secrets.token_urlsafe(48)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "majed_vanna.settings",
            "DJANGO_ENV": "production",
            "SECRET_KEY": secret,
            "SECURE_SSL_REDIRECT": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "MV_DATA_DIR": str(data_dir),
            "DATABASE_URL": database_url,
            "CACHE_KEY_PREFIX": prefix,
            "DEFAULT_THROTTLE_RATE": "100000/hour",
            "LLM_PROVIDER": "openai",
            "LLM_MODEL": "fake-model-1",
            "LLM_BASE_URL": f"{fake.url}/v1",
            "LLM_API_KEY": fake.api_key,
            "PYTHONUNBUFFERED": "1",
        }
        bare_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.bare.settings", "BARE_SECRET_KEY": secret}
        engine = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
        print(f"database: {engine}; cache: {'Redis' if redis_url else 'in-process'}; requests: {args.requests}")

        print("migrating and seeding ...", flush=True)
        run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env)
        run([sys.executable, "manage.py", "shell", "-c", SEED], env)

        ours = daphne(env, "majed_vanna.asgi:application", data_dir / "ours.log", stack)
        bare = daphne(bare_env, "bench.bare.asgi:application", data_dir / "bare.log", stack)
        admins = []
        for n in range(ADMINS):
            credentials = {"username": f"bench-admin{n}@example.com", "password": PASSWORD}
            login = httpx.post(f"{ours}/api/v1/auth/login", json=credentials, timeout=30)
            if login.status_code != 200:
                raise SystemExit(f"login failed: {login.status_code} {login.text[:300]}")
            admins.append({"Authorization": f"Bearer {login.json()['data']['access_token']}"})
        ours_headers = admins[0]
        me_data = httpx.get(f"{ours}/api/v1/auth/me", headers=ours_headers, timeout=30).json()["data"]
        admin_id = me_data.get("user_id") or me_data["id"]
        now = int(time.time())
        claims = {"token_type": "access", "exp": now + 3600, "iat": now, "jti": uuid.uuid4().hex, "user_id": admin_id}
        bare_headers = {"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}"}

        with (
            httpx.Client(base_url=ours, timeout=30) as mv,
            httpx.Client(base_url=bare, headers=bare_headers, timeout=30) as floor,
            httpx.Client(base_url=ours, timeout=30) as anonymous,
        ):
            mv.rotating_headers = itertools.cycle(admins)
            print("measuring auth/me, users, health ...", flush=True)
            n = args.requests
            me = compare({"ours": (mv, "/api/v1/auth/me"), "bare": (floor, "/auth/me")}, n)
            users = compare({"ours": (mv, "/api/v1/users"), "bare": (floor, "/users")}, n)
            health = compare({"health": (anonymous, "/api/v1/health"), "live": (anonymous, "/api/v1/health/live")}, n)
            small = compare({"audit": (mv, "/api/v1/audit-logs")}, n)["audit"]
            print(f"growing the audit log to {args.audit_rows} rows ...", flush=True)
            grow_audit_log(env, args.audit_rows)
            large = compare({"audit": (mv, "/api/v1/audit-logs")}, n)["audit"]
        print(f"{SLOW_TESTS} slow LLM connection tests ...", flush=True)
        span, window = slow_connection_tests(ours, ours_headers, fake)

    ratios = [
        ("auth/me vs bare floor (p50 ratio)", p50(me["ours"]) / p50(me["bare"]), "<= 1.15", 1.15),
        ("users list vs bare floor (p50 ratio)", p50(users["ours"]) / p50(users["bare"]), "<= 1.15", 1.15),
        ("/health vs /health/live (p50 ratio)", p50(health["health"]) / p50(health["live"]), "<= 3", 3),
        (f"audit list {args.audit_rows} vs 1000 rows (p50 ratio)", p50(large) / p50(small), "<= 1.2", 1.2),
    ]
    print(f"\nMajed Vanna vs floor, {engine} + {'Redis' if redis_url else 'in-process cache'}, ms (p50 / p95):")
    figures = [
        ("auth/me", me["ours"], me["bare"]),
        ("users list", users["ours"], users["bare"]),
        ("/health, /health/live", health["health"], health["live"]),
        ("audit list 1000 rows, large", small, large),
    ]
    for name, a, b in figures:
        print(f"  {name:<30} {p50(a):7.2f} / {p95(a):7.2f}    {p50(b):7.2f} / {p95(b):7.2f}")
    print("\nGoals:")
    for name, value, goal, bound in ratios:
        print(line(name, value, goal, value <= bound))
    print(line(f"/health/live p95 ms, all 20 tests waiting (n={len(window)})", p95(window), "< 50", p95(window) < 50))
    print(line(f"/health/live p95 ms, whole span (n={len(span)})", p95(span), "< 50", p95(span) < 50))


if __name__ == "__main__":
    main()
