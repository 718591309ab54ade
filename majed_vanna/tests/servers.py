"""Real server processes for tests: daphne (and ``manage.py`` commands) in subprocesses on 127.0.0.1.

Use the ``daphne_server`` fixture (available in every app through the root ``conftest.py``)::

    def test_something(daphne_server):
        server = daphne_server()                                # test settings, free port, own data dir
        other = daphne_server(env={"METRICS_PUBLISH_SECONDS": "1"}, urls_for_tests=True)
        response = server.get("/api/v1/health")                 # an httpx.Response

Each process inherits this test run's environment (``DATABASE_URL``, ``REDIS_URL``, ``CACHE_KEY_PREFIX``),
gets its own ``MV_DATA_DIR`` unless told otherwise, is waited for until it answers, and is terminated when
the test ends. It serves a listening socket this process opened on a free port and hands over (``daphne
--fd``), so no other process can take the port in between. ``server.log()`` returns what it wrote to stdout
and stderr; ``server.raw_request()`` sends a request target byte for byte (no client-side URL normalizing).

A daphne process has its own database connection: rows a test creates are visible to it only when the
test commits them (``transactional_db``) and both use the same database (PostgreSQL runs). For data the
server and ``manage.py`` commands share regardless of the run, give them a migrated SQLite file of their
own: ``start_daphne(..., env=migrated_sqlite(data_dir))``.
"""

import atexit
import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
DAPHNE = str(Path(sys.executable).with_name("daphne"))
STOP_GRACE_SECONDS = 3.0  # at most, after SIGTERM, before SIGKILL (see ServerProcess.stop)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_port() -> int:
    """A port of 127.0.0.1 nobody listens on (connections to it are refused at once)."""
    return free_port()


def server_env(*, data_dir: Path, settings_module: str, extra: dict | None = None) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module, "MV_DATA_DIR": str(data_dir)}
    env["PYTHONUNBUFFERED"] = "1"
    for name, value in (extra or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = str(value)
    return env


def listening_socket() -> socket.socket:
    """A socket listening on a free port of 127.0.0.1, to hand to a server process."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def migrated_sqlite(data_dir: Path, *, settings_module: str = "majed_vanna.settings.test") -> dict:
    """A migrated SQLite file in ``data_dir``; returns the environment entries (``DATABASE_URL``) that point
    servers, commands and subprocesses at it.

    The first call for a settings module runs ``manage.py migrate`` on a template file of this test
    process; later calls copy it (a migrate subprocess costs seconds, a copy milliseconds; the file is the
    same: the migrations depend on neither ``MV_DATA_DIR`` nor the run)."""
    path = Path(data_dir) / "db.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_migrated_template(settings_module), path)
    return {"DATABASE_URL": f"sqlite:///{path}"}


_migrated_templates: dict[str, Path] = {}


def _migrated_template(settings_module: str) -> Path:
    if settings_module not in _migrated_templates:
        template_dir = Path(tempfile.mkdtemp(prefix="mv-migrated-"))
        atexit.register(shutil.rmtree, template_dir, ignore_errors=True)
        path = template_dir / "db.sqlite3"
        env = server_env(
            data_dir=template_dir, settings_module=settings_module, extra={"DATABASE_URL": f"sqlite:///{path}"}
        )
        result = run_manage("migrate", "--noinput", "-v", "0", env=env)
        if result.returncode != 0:
            raise RuntimeError(f"migrate failed:\n{result.stderr[-2000:]}")
        for suffix in ("-wal", "-shm", "-journal"):  # a clean exit leaves none; a template must be one file
            if Path(f"{path}{suffix}").exists():
                raise RuntimeError(f"migrate left {path}{suffix} behind")
        _migrated_templates[settings_module] = path
    return _migrated_templates[settings_module]


def run_manage(*args: str, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python manage.py <args>`` in a subprocess with ``env``; returns the completed process."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class ServerProcess:
    process: subprocess.Popen
    port: int
    log_path: Path
    data_dir: Path
    env: dict

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        kwargs.setdefault("timeout", 15)
        with httpx.Client(base_url=self.base_url) as client:
            return client.request(method, path, **kwargs)

    def get(self, path: str, **kwargs) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def raw_request(self, method: str, target: str, body: bytes = b"", headers: dict | None = None, timeout=10):
        """Send ``target`` exactly as given (percent-escapes, case and all); returns (status, headers, body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.putrequest(method, target, skip_accept_encoding=True)
            for name, value in {**(headers or {}), "Content-Length": str(len(body))}.items():
                conn.putheader(name, value)
            conn.endheaders(body or None)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        """SIGTERM; once daphne has shut its server down, SIGKILL.

        Daphne handles SIGTERM within milliseconds: its reactor cancels the application instances, waits for
        them, then closes the listening socket. What follows is the interpreter's teardown, seconds of CPU that
        write nothing (measured 5-10 s per server on the loaded CI machine) and that nothing a test checks
        depends on: logs are unbuffered, committed rows are on disk, and a killed process's database
        connections close with it. So the socket refusing connections ends the wait (a grace bounds it).
        """
        self.terminate()
        self.wait_stopped()

    def terminate(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()

    def wait_stopped(self, grace: float = STOP_GRACE_SECONDS) -> None:
        deadline = time.monotonic() + grace
        while self.process.poll() is None and time.monotonic() < deadline and self._listening():
            time.sleep(0.02)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def _listening(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
        except OSError:
            return False
        return True


def start_daphne(
    *,
    data_dir: Path,
    env: dict | None = None,
    settings_module: str = "majed_vanna.settings.test",
    wait_path: str = "/api/v1/health/live",
    timeout: float = 60,  # a loaded 2-CPU machine needs up to half a minute to import the project
    daphne_args: tuple[str, ...] = (),
) -> ServerProcess:
    """Start daphne on a free port and wait until ``wait_path`` answers (any HTTP status); ``daphne_args`` are
    passed to daphne before the application (e.g. ``("--proxy-headers",)``)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    full_env = server_env(data_dir=data_dir, settings_module=settings_module, extra=env)
    with listening_socket() as listener:
        port = listener.getsockname()[1]
        log_path = data_dir / f"daphne-{port}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [DAPHNE, "--fd", str(listener.fileno()), *daphne_args, "majed_vanna.asgi:application"],
                cwd=BASE_DIR,
                env=full_env,
                pass_fds=[listener.fileno()],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
    # The child holds its own copy of the socket; connections queue on it until daphne accepts them.
    server = ServerProcess(process=process, port=port, log_path=log_path, data_dir=data_dir, env=full_env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daphne exited with {process.returncode}:\n{server.log()}")
        try:
            server.get(wait_path, timeout=2)
            return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"daphne did not answer {wait_path} within {timeout}s:\n{server.log()}")


@pytest.fixture
def daphne_server(tmp_path_factory):
    """Factory fixture: ``daphne_server(env=None, settings_module=..., urls_for_tests=False, data_dir=None,
    daphne_args=())``.

    ``urls_for_tests=True`` serves the test-only views of ``majed_vanna.tests.urls`` as well.
    Every process started is terminated when the test ends.
    """
    started: list[ServerProcess] = []

    def start(*, env=None, settings_module=None, urls_for_tests=False, data_dir=None, **kwargs) -> ServerProcess:
        if settings_module is None:
            settings_module = "majed_vanna.tests.server_settings" if urls_for_tests else "majed_vanna.settings.test"
        server = start_daphne(
            data_dir=data_dir or tmp_path_factory.mktemp("daphne"),
            env=env,
            settings_module=settings_module,
            **kwargs,
        )
        started.append(server)
        return server

    yield start
    for server in started:  # all at once: their graces overlap
        server.terminate()
    for server in started:
        server.wait_stopped()


# Tests that need one cache shared by several processes (Redis) run only when REDIS_URL is set: CI's second
# run (.ci/run) sets it. Without Redis each process has its own in-memory cache, so there is nothing to share.
requires_redis = pytest.mark.skipif(
    not settings.REDIS_URL, reason="needs the shared Redis cache: set REDIS_URL (CI's second run does)"
)
