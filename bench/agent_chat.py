"""Agent chat under concurrency (issue 15's benchmark): wall time of N concurrent chats against one chat, LLM
calls in flight, ``/health`` latency, threads and memory of the server process; and one chat at a time
against vanna 2.0.2's own server. Figures and ratios against baselines measured in the same run.

::

    # PostgreSQL + Redis (the figures in BENCHMARKS.md): a scratch database <name>_agentbench, dropped at the end.
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mv REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/agent_chat.py
    .venv/bin/python bench/agent_chat.py --thousand 0 --sequential 50    # SQLite + in-process cache, quick

It starts, on 127.0.0.1 only: a fake LLM (``bench/fake_llm_async.py``, OpenAI wire format, counts the calls
in flight), one daphne process of Majed Vanna in the production profile (listening socket opened here with
a deep backlog, handed over with ``--fd``), an observer process (``bench/agent_probe.py``: ``/api/v1/health``
every 100 ms, the server's threads and RSS), and for the comparison vanna 2.0.2's FastAPI server
(``bench/agent_vanna_server.py``) in its own virtualenv (``--vanna-python``; skipped when missing).

A chat is ``--mode tool`` (default): the model calls ``run_sql`` (a ``SELECT count(*)`` on the demo SQLite
source), then answers from the result: two LLM calls, the gate, the query, the stored answer and audit row;
``--mode answer``: the model answers at once (one LLM call). The client is raw asyncio (one connection per
chat, ``Connection: close``), so that at a thousand chats the client costs little next to the server.

Phases: (1) ``--delay`` (1 s) per LLM call, SSE chats at each ``--levels`` concurrency (median wall time of
``--repeat`` waves) against one chat; (2) 0 s per LLM call, ``--sequential`` chats one at a time, ours and
vanna's taking turns in blocks of ten: ``chat_poll`` latency and SSE time to the first event and to the first
answer delta; (3) ``--thousand`` concurrent SSE chats (1 s per LLM call) against one chat.
"""

import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder leads sys.path, where bench/platform.py would shadow the standard library's.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BASE_DIR / "bench"]
sys.path.insert(0, str(BASE_DIR))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from contextlib import ExitStack  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import httpx  # noqa: E402

from bench.platform import forget_cache_keys, free_port, run, stop  # noqa: E402

PYTHON = [sys.executable, "-P"]
API_KEY = "sk-bench-fake"
PASSWORD = "Bench-agent-chat-Pw-2024"
USERNAME = "bench-chat@example.com"
QUESTION = "How many customers are there?"
ANSWER_MARK = b"The data source"  # the first delta of the fake model's answer
DEFAULT_VANNA_PYTHON = "/tmp/mv_bench_vanna/bin/python"
BLOCK = 10
UNLIMITED = "10000000/hour"

SEED = f"""
from accounts.models import User
from agent.services.demo_data import demo_sqlite_install
from config_api.services import config_update
admin = User.objects.create_superuser(username="bench-admin@example.com", password={PASSWORD!r})
User.objects.create_user(username={USERNAME!r}, password={PASSWORD!r}, role="normal")
User.objects.update(must_change_password=False)
demo_sqlite_install(by="bench")
config_update(actor=admin, changes={{"rate_limits": {{"agent.chat": {UNLIMITED!r}, "health": {UNLIMITED!r},
                                                     "default": {UNLIMITED!r}}}}})
"""


# --- processes


def scratch_database(url: str | None, data_dir: Path, stack: ExitStack) -> str:
    """``<name>_agentbench`` on the PostgreSQL server of ``url`` (fresh, dropped at the end), else SQLite."""
    if not url or not url.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{data_dir / 'db.sqlite3'}"
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'mv'}_agentbench"
    admin_url = urlunsplit(parts._replace(path="/postgres"))

    def drop():
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    drop()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    stack.callback(drop)
    return urlunsplit(parts._replace(path=f"/{name}"))


def start(args: list[str], log: Path, stack: ExitStack, *, env=None, cwd=BASE_DIR, pass_fds=()) -> subprocess.Popen:
    with open(log, "ab") as out:
        process = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=out, pass_fds=pass_fds)
    stack.callback(stop, process)
    return process


def wait_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: the server exited:\n{log.read_text()[-3000:]}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer:\n{log.read_text()[-3000:]}")


def daphne(env: dict, log: Path, stack: ExitStack) -> tuple[str, subprocess.Popen]:
    """Daphne on a listening socket opened here (backlog 4096: a thousand connections at once are accepted,
    not dropped and retried a second later), handed over with ``--fd``."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(4096)
        port = listener.getsockname()[1]
        daphne_bin = str(Path(sys.executable).with_name("daphne"))
        process = start(
            [daphne_bin, "--fd", str(listener.fileno()), "majed_vanna.asgi:application"],
            log,
            stack,
            env=env,
            pass_fds=[listener.fileno()],
        )
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/api/v1/health/live", process, log)
    return base, process


class Fake:
    """The fake LLM's process and its control endpoints."""

    def __init__(self, data_dir: Path, stack: ExitStack):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log = data_dir / "fake_llm.log"
        script = str(BASE_DIR / "bench" / "fake_llm_async.py")
        process = start([*PYTHON, script, "--port", str(self.port), "--api-key", API_KEY], log, stack)
        wait_http(self.url + "/_stats", process, log)

    def reset(self, *, delay: float, mode: str) -> None:
        httpx.post(self.url + "/_reset", json={"delay": delay, "mode": mode}, timeout=10).raise_for_status()

    def stats(self) -> dict:
        return httpx.get(self.url + "/_stats", timeout=10).json()


class Probe:
    """``bench/agent_probe.py`` for the span of a ``with`` block; ``samples`` afterwards."""

    def __init__(self, base: str, pid: int, out: Path):
        self.base, self.pid, self.out = base, pid, out
        self.samples: list[dict] = []

    def __enter__(self):
        self.out.unlink(missing_ok=True)
        script = str(BASE_DIR / "bench" / "agent_probe.py")
        args = [*PYTHON, script, "--url", self.base, "--pid", str(self.pid), "--out", str(self.out)]
        self.process = subprocess.Popen(args, cwd=BASE_DIR)
        time.sleep(0.3)  # its first samples: the quiet server
        return self

    def __exit__(self, *exc):
        time.sleep(0.3)
        stop(self.process)
        self.samples = [json.loads(line) for line in self.out.read_text().splitlines() if line.strip()]


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the client: raw asyncio HTTP/1.1, one connection per request


@dataclass
class Result:
    status: int
    body: bytes
    total: float  # seconds from connecting to the last byte
    first_event: float | None  # seconds to the first "data:" line
    first_answer: float | None  # seconds to the first delta of the model's answer
    failed: bool = False


async def post(port: int, path: str, payload: dict, headers: dict[str, str]) -> Result:
    body = json.dumps(payload).encode()
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 22)
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        fields = {}
        for line in head.decode("latin-1").split("\r\n")[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        received, first_event, first_answer = bytearray(), None, None

        def got(data: bytes) -> None:
            nonlocal first_event, first_answer
            received.extend(data)
            now = time.perf_counter() - started
            if first_event is None and b"data:" in received:
                first_event = now
            if first_answer is None and ANSWER_MARK in received:
                first_answer = now

        if "chunked" in fields.get("transfer-encoding", ""):
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    break
                got((await reader.readexactly(size + 2))[:-2])
        elif "content-length" in fields:
            got(await reader.readexactly(int(fields["content-length"])))
        else:
            while data := await reader.read(65536):
                got(data)
    finally:
        writer.close()
    return Result(status, bytes(received), time.perf_counter() - started, first_event, first_answer)


@dataclass
class Server:
    name: str
    port: int
    poll_path: str
    sse_path: str
    headers: dict[str, str]

    def ok(self, result: Result, *, sse: bool, mode: str) -> bool:
        """The chat answered, completely and without error."""
        ok = result.status == 200 and ANSWER_MARK in result.body
        if self.name == "ours":
            if sse:
                ok = ok and b'"type":"done"' in result.body and b'"type":"error"' not in result.body
            else:
                ok = ok and json.loads(result.body)["data"]["metadata"]["error"] is None
            if mode == "tool":
                ok = ok and b'"type":"table"' in result.body.replace(b'"type": "table"', b'"type":"table"')
        return ok

    async def chat(self, *, sse: bool, mode: str, strict: bool = True) -> Result:
        """One chat; a failed one stops the run (``strict``) or is marked ``failed`` (under load: counted)."""
        try:
            path = self.sse_path if sse else self.poll_path
            result = await post(self.port, path, {"message": QUESTION}, self.headers)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            result = Result(0, repr(exc).encode(), 0.0, None, None)
        result.failed = not self.ok(result, sse=sse, mode=mode)
        if result.failed and strict:
            raise SystemExit(f"{self.name}: a chat failed ({result.status}): {result.body[:1500]!r}")
        return result


async def wave(server: Server, n: int, mode: str) -> tuple[float, list[Result]]:
    """``n`` SSE chats started at once; (seconds until the last one ended, results)."""
    started = time.perf_counter()
    results = await asyncio.gather(*(server.chat(sse=True, mode=mode, strict=False) for _ in range(n)))
    return time.perf_counter() - started, results


# --- figures


def p50(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


@dataclass
class Level:
    n: int
    walls: list[float]
    max_in_flight: int
    calls: int
    health_ms: list[float]
    health_errors: int
    threads: int
    rss_mb: float
    cpu_s: float
    failed: int
    failure: str


def concurrent_level(server: Server, fake: Fake, pid: int, data_dir: Path, n: int, repeat: int, args) -> Level:
    fake.reset(delay=args.delay, mode=args.mode)
    walls, failed = [], []
    cpu_before = cpu_seconds(pid)
    with Probe(f"http://127.0.0.1:{server.port}", pid, data_dir / f"probe-{n}.jsonl") as probe:
        for _ in range(repeat):
            wall, results = asyncio.run(wave(server, n, args.mode))
            walls.append(wall)
            failed += [r for r in results if r.failed]
    cpu = cpu_seconds(pid) - cpu_before
    stats = fake.stats()
    samples = probe.samples
    return Level(
        n=n,
        walls=walls,
        max_in_flight=stats["max_in_flight"],
        calls=stats["calls"],
        health_ms=[s["ms"] for s in samples if s["status"] == 200],
        health_errors=sum(1 for s in samples if s["status"] != 200),
        threads=max(s["threads"] or 0 for s in samples),
        rss_mb=max(s["rss_kb"] or 0 for s in samples) / 1024,
        cpu_s=cpu / (n * repeat),
        failed=len(failed),
        failure=f"{failed[0].status} {failed[0].body[:300]!r}" if failed else "",
    )


def print_levels(levels: list[Level], calls_per_chat: int) -> None:
    base = p50(levels[0].walls)
    print(
        f"\n  {'chats':>6} {'wall s (median)':>16} {'ratio':>6} {'max LLM in flight':>18} {'/health max ms':>15} "
        f"{'p95':>6} {'threads':>8} {'RSS MB':>7} {'CPU ms/chat':>12}"
    )
    for level in levels:
        ratio = p50(level.walls) / base
        health_max = max(level.health_ms) if level.health_ms else float("nan")
        print(
            f"  {level.n:>6} {p50(level.walls):>16.3f} {ratio:>6.3f} "
            f"{level.max_in_flight:>8} of {level.n:<7} {health_max:>15.1f} {p95(level.health_ms):>6.1f} "
            f"{level.threads:>8} {level.rss_mb:>7.0f} {level.cpu_s * 1000:>12.1f}"
            + (f"   ({level.health_errors} health errors)" if level.health_errors else "")
        )
        if level.failed:
            print(f"         {level.failed} chat(s) FAILED, e.g. {level.failure}")
        if level.calls != calls_per_chat * level.n * len(level.walls):
            print(f"         (the fake LLM saw {level.calls} calls)")


def goals_for_levels(levels: list[Level], goals: dict[int, float]) -> None:
    base = p50(levels[0].walls)
    for level in levels[1:]:
        ratio = p50(level.walls) / base
        goal = goals.get(level.n)
        if goal is not None:
            ok = ratio <= goal and not level.failed
            print(f"  {level.n} chats vs one, wall-time ratio       {ratio:7.3f}   goal <= {goal:<5} {mark(ok)}")
        print(
            f"  {level.n} chats: most LLM calls in flight     {level.max_in_flight:7d}   goal {level.n:<8} "
            f"{mark(level.max_in_flight >= level.n)}"
        )
        if level.health_ms:
            worst = max(level.health_ms)
            print(f"  {level.n} chats: /health max latency ms     {worst:7.1f}   goal < 50    {mark(worst < 50)}")


def sequential(servers: list[Server], fake: Fake, n: int, mode: str) -> dict[str, dict[str, list[float]]]:
    """``n`` poll and ``n`` SSE chats per server, one at a time, servers taking turns in blocks."""
    fake.reset(delay=0, mode=mode)
    samples = {s.name: {"poll": [], "sse_first": [], "sse_answer": [], "sse_total": []} for s in servers}

    async def main():
        for server in servers:  # warm up
            for _ in range(3):
                await server.chat(sse=False, mode=mode)
                await server.chat(sse=True, mode=mode)
        while min(len(v["poll"]) for v in samples.values()) < n:
            for server in servers:
                mine = samples[server.name]
                for _ in range(min(BLOCK, n - len(mine["poll"]))):
                    mine["poll"].append((await server.chat(sse=False, mode=mode)).total * 1000)
                    result = await server.chat(sse=True, mode=mode)
                    mine["sse_first"].append(result.first_event * 1000)
                    mine["sse_answer"].append(result.first_answer * 1000)
                    mine["sse_total"].append(result.total * 1000)

    asyncio.run(main())
    return samples


# --- the run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="1,20,100", help="concurrent chats per wave (first: the baseline)")
    parser.add_argument("--repeat", type=int, default=3, help="waves per level; the median wall time counts")
    parser.add_argument("--delay", type=float, default=1.0, help="seconds per LLM call under load (default 1)")
    parser.add_argument("--mode", choices=("tool", "answer"), default="tool", help="two LLM calls or one")
    parser.add_argument("--sequential", type=int, default=100, help="one-at-a-time chats per server (0: skip)")
    parser.add_argument("--thousand", type=int, default=1000, help="the big wave's size (0: skip)")
    parser.add_argument("--vanna-python", default=DEFAULT_VANNA_PYTHON, help="python of vanna's virtualenv")
    parser.add_argument("--keep", action="store_true", help="keep the data directory (logs, samples)")
    args = parser.parse_args()
    levels = [int(n) for n in args.levels.split(",")]
    calls_per_chat = 2 if args.mode == "tool" else 1

    data_dir = Path(tempfile.mkdtemp(prefix="mv-agentbench-"))
    prefix = f"mvagentbench{secrets.token_hex(4)}"
    redis_url = os.environ.get("REDIS_URL") or None
    with ExitStack() as stack:
        if args.keep:
            print(f"data directory (logs, samples): {data_dir}")
        else:
            stack.callback(shutil.rmtree, data_dir, True)
        if redis_url:
            stack.callback(forget_cache_keys, redis_url, prefix)
        database_url = scratch_database(os.environ.get("DATABASE_URL"), data_dir, stack)
        fake = Fake(data_dir, stack)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "majed_vanna.settings",
            "DJANGO_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "SECURE_SSL_REDIRECT": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "MV_DATA_DIR": str(data_dir),
            "DATABASE_URL": database_url,
            "CACHE_KEY_PREFIX": prefix,
            "LLM_PROVIDER": "openai",
            "LLM_MODEL": "fake-model-1",
            "LLM_BASE_URL": f"{fake.url}/v1",
            "LLM_API_KEY": API_KEY,
            "PYTHONUNBUFFERED": "1",
        }
        engine = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
        print(
            f"database: {engine}; cache: {'Redis' if redis_url else 'in-process'}; mode: {args.mode} "
            f"({calls_per_chat} LLM call(s) per chat); load average {os.getloadavg()[0]:.1f}"
        )
        print("migrating and seeding ...", flush=True)
        run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env)
        run([sys.executable, "manage.py", "shell", "-c", SEED], env)

        base, process = daphne(env, data_dir / "daphne.log", stack)
        login = httpx.post(f"{base}/api/v1/auth/login", json={"username": USERNAME, "password": PASSWORD}, timeout=30)
        if login.status_code != 200:
            raise SystemExit(f"login failed: {login.status_code} {login.text[:300]}")
        token = login.json()["data"]["access_token"]
        port = int(base.rsplit(":", 1)[1])
        bearer = {"Authorization": f"Bearer {token}"}
        ours = Server("ours", port, "/api/v1/agent/chat_poll", "/api/v1/agent/chat_sse", bearer)
        fake.reset(delay=0, mode=args.mode)
        for _ in range(3):  # warm up: imports, the schema snapshot, the LLM client's pool
            asyncio.run(ours.chat(sse=True, mode=args.mode))
            asyncio.run(ours.chat(sse=False, mode=args.mode))

        print(f"concurrent SSE chats at {args.delay:g} s per LLM call: {levels} x {args.repeat} ...", flush=True)
        measured = [concurrent_level(ours, fake, process.pid, data_dir, n, args.repeat, args) for n in levels]

        compared = None
        if args.sequential:
            servers = [ours]
            if Path(args.vanna_python).exists():
                vanna_port = free_port()
                vanna_dir = data_dir / "vanna"
                vanna_dir.mkdir()
                log = data_dir / "vanna.log"
                vanna = start(
                    [
                        args.vanna_python,
                        "-P",
                        str(BASE_DIR / "bench" / "agent_vanna_server.py"),
                        "--port",
                        str(vanna_port),
                        "--llm-base-url",
                        f"{fake.url}/v1",
                        "--api-key",
                        API_KEY,
                        "--database",
                        str(data_dir / "demo.sqlite3"),
                    ],
                    log,
                    stack,
                    cwd=vanna_dir,
                )
                wait_http(f"http://127.0.0.1:{vanna_port}/health", vanna, log)
                servers.append(Server("vanna", vanna_port, "/api/vanna/v2/chat_poll", "/api/vanna/v2/chat_sse", {}))
            else:
                print(f"  (no {args.vanna_python}: vanna's server is not measured; see BENCHMARKS.md to create it)")
            print(f"{args.sequential} chats one at a time per server, 0 s per LLM call ...", flush=True)
            compared = sequential(servers, fake, args.sequential, args.mode)

        big = None
        if args.thousand:
            print(f"{args.thousand} concurrent SSE chats at {args.delay:g} s per LLM call ...", flush=True)
            big = concurrent_level(ours, fake, process.pid, data_dir, args.thousand, 1, args)

    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")
    print(
        f"\nConcurrent SSE chats, {engine} + {'Redis' if redis_url else 'in-process cache'}, "
        f"{args.delay:g} s per LLM call, {calls_per_chat} call(s) per chat:"
    )
    print_levels([*measured, *([big] if big else [])], calls_per_chat)
    if compared:
        print("\nOne chat at a time, 0 s per LLM call, ms (p50 / p95):")
        print(f"  {'server':<7} {'chat_poll':>17} {'SSE first event':>17} {'SSE first answer':>17} {'SSE whole':>17}")
        for name, values in compared.items():
            keys = ("poll", "sse_first", "sse_answer", "sse_total")
            cells = [f"{p50(values[k]):7.2f} / {p95(values[k]):7.2f}" for k in keys]
            print(f"  {name:<7} " + " ".join(f"{c:>17}" for c in cells))
    print("\nGoals:")
    goals_for_levels(measured, {20: 1.05, 100: 1.2})
    if compared and "vanna" in compared:
        for key, label in (
            ("poll", "chat_poll p50"),
            ("sse_first", "SSE first event p50"),
            ("sse_answer", "SSE first answer p50"),
        ):
            ratio = p50(compared["ours"][key]) / p50(compared["vanna"][key])
            print(f"  {label + ' vs vanna (ratio)':<40} {ratio:7.3f}   goal <= 1     {mark(ratio <= 1)}")
    if big:
        ratio = p50(big.walls) / p50(measured[0].walls)
        ok = ratio <= 1.5 and not big.failed
        print(f"  {big.n} chats vs one, wall-time ratio     {ratio:7.3f}   goal <= 1.5   {mark(ok)}")
        print(
            f"  {big.n} chats: most LLM calls in flight   {big.max_in_flight:7d}   goal {big.n:<8} "
            f"{mark(big.max_in_flight >= big.n)}"
        )
        print(f"  {big.n} chats: server threads (peak) {big.threads:7d};  RSS (peak) {big.rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
