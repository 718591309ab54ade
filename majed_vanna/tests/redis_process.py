"""A redis-server of a test's own, on a free port of 127.0.0.1, to kill or stop (``SIGSTOP``) at will.

Fault tests must never touch the shared Redis other runs use. Use the ``redis_process`` fixture (import it
into the test module) in a ``@pytest.mark.slow`` test::

    def test_something(redis_process, daphne_server):
        redis = redis_process()                       # started, answering PING
        server = daphne_server(env={"REDIS_URL": redis.url})
        redis.kill()                                  # SIGKILL: connections refused from now on
        redis.start()                                 # again, same port, empty
        with redis.stopped():                         # SIGSTOP: connections accepted, never answered
            ...

Every process started is killed when the test ends (a stopped one is continued first).
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .servers import free_port

REDIS_SERVER = shutil.which("redis-server") or "redis-server"


def ping(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class RedisProcess:
    port: int
    directory: Path
    process: subprocess.Popen | None = None
    paused: bool = field(default=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10) -> "RedisProcess":
        """Start (or start again, on the same port) and wait until it answers PING."""
        self.directory.mkdir(parents=True, exist_ok=True)
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        log = open(self.directory / "redis.log", "ab")  # noqa: SIM115 - the child writes to it until killed
        self.process = subprocess.Popen([*args, "--dir", str(self.directory)], stdout=log, stderr=log)
        log.close()
        self.paused = False
        deadline = time.monotonic() + timeout
        while not ping(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)
        return self

    def kill(self) -> None:
        """SIGKILL: the port refuses connections at once."""
        if self.process is not None and self.process.poll() is None:
            if self.paused:
                os.kill(self.process.pid, signal.SIGCONT)
            self.process.kill()
            self.process.wait(timeout=10)
        self.paused = False

    def stop(self) -> None:
        """SIGSTOP: the kernel still accepts connections, nothing ever answers."""
        os.kill(self.process.pid, signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)
        self.paused = False

    @contextlib.contextmanager
    def stopped(self):
        self.stop()
        try:
            yield self
        finally:
            self.resume()


@pytest.fixture
def redis_process(tmp_path_factory):
    """Factory: ``redis_process()`` starts a redis-server of this test's own; all are killed at the end."""
    started: list[RedisProcess] = []

    def start() -> RedisProcess:
        redis = RedisProcess(port=free_port(), directory=tmp_path_factory.mktemp("redis"))
        started.append(redis)
        return redis.start()

    yield start
    for redis in started:
        redis.kill()
