"""Real server processes for tests: daphne (and ``manage.py`` commands) in subprocesses on 127.0.0.1.

Use the ``daphne_server`` fixture (available in every app through the root ``conftest.py``)::

    def test_something(daphne_server):
        server = daphne_server()                                # test settings, free port, own data dir
        other = daphne_server(env={"METRICS_PUBLISH_SECONDS": "1"}, urls_for_tests=True)
        response = server.get("/api/v1/health")                 # an httpx.Response

Each process inherits this test run's environment (``DATABASE_URL``, ``REDIS_URL``, ``CACHE_KEY_PREFIX``),
gets a free port and its own ``MV_DATA_DIR`` unless told otherwise, is waited for until it answers, and
is terminated when the test ends. ``server.log()`` returns what it wrote to stdout and stderr.

A daphne process has its own database connection: rows a test creates are visible to it only when the
test commits them (``transactional_db``) and both use the same database (PostgreSQL runs).
"""

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
DAPHNE = str(Path(sys.executable).with_name("daphne"))


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

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_daphne(
    *,
    data_dir: Path,
    env: dict | None = None,
    settings_module: str = "majed_vanna.settings.test",
    wait_path: str = "/api/v1/health/live",
    timeout: float = 30,
) -> ServerProcess:
    """Start daphne on a free port and wait until ``wait_path`` answers (any HTTP status)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    full_env = server_env(data_dir=data_dir, settings_module=settings_module, extra=env)
    log_path = data_dir / f"daphne-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [DAPHNE, "-b", "127.0.0.1", "-p", str(port), "majed_vanna.asgi:application"],
            cwd=BASE_DIR,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
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
    """Factory fixture: ``daphne_server(env=None, settings_module=..., urls_for_tests=False, data_dir=None)``.

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
    for server in started:
        server.stop()


# Tests that need one cache shared by several processes (Redis) run only when REDIS_URL is set: CI's second
# run (.ci/run) sets it. Without Redis each process has its own in-memory cache, so there is nothing to share.
requires_redis = pytest.mark.skipif(
    not settings.REDIS_URL, reason="needs the shared Redis cache: set REDIS_URL (CI's second run does)"
)
