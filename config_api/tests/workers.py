"""Real processes for the worker fault tests: a private ``redis-server`` on a free port (killed and restarted
on the same port) and Celery workers that share the test's PostgreSQL database.

Tasks are sent through a Celery app of their own (``broker_app``) bound to the private Redis, so the project
app (eager in the tests, or on the shared Redis) is never touched.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
from celery import Celery
from django.conf import settings
from django.db import connection

from config_api.models import Backup

REDIS_SERVER = shutil.which("redis-server")
CELERY = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
FINISHED = ("succeeded", "failed")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """``redis-server`` without persistence: a kill loses every queued message, as a crash without AOF would."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.process = None

    def start(self) -> None:
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        log = (self.workdir / f"redis-{self.port}.log").open("a")
        self.process = subprocess.Popen(command, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                assert self.process.poll() is None and time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


class Worker:
    """``celery worker`` with the production pool (prefork): the main process consumes, children run tasks.
    With two children, one runs a job while the main process waits on the broker for the next message (what
    made celery 5.7.0 die with the broker)."""

    def __init__(self, workdir: Path, broker: RedisServer, queue: str, extra_env: dict[str, str], name: str, size: int):
        self.node = f"{name}@127.0.0.1"
        self.log_path = workdir / f"{name}.log"
        db = connection.settings_dict
        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="majed_vanna.settings.test",
            DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            REDIS_URL=broker.url,
            CACHE_KEY_PREFIX=f"{settings.CACHE_KEY_PREFIX}-{name}",
            MV_BACKUP_DIR=str(workdir / "backups"),
            MV_ALLOWED_PATH_ROOTS=str(workdir),
            DB_POOL="false",
            **extra_env,
        )
        command = [CELERY, "-A", "majed_vanna", "worker", "--pool=prefork", f"--concurrency={size}", "-Q", queue]
        command += ["-n", self.node, "--without-gossip", "--without-mingle", "-l", "INFO"]
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def log_text(self) -> str:
        self.log.flush()
        return self.log_path.read_text()

    def alive(self) -> bool:
        return self.process.poll() is None

    def pool_children(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children()

    def kill_all(self) -> None:
        """SIGKILL the whole worker (main process and pool children), as a crash or ``kill -9`` would."""
        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        else:  # children of a killed main process may still be running
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


class WorkerSetup:
    """One private broker, the workers started on it, and a Celery app to send tasks and pings through it."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.redis = RedisServer(workdir)
        self.redis.start()
        self.queue = f"mv_fault_{uuid.uuid4().hex[:8]}"
        self.app = Celery("fault-test", broker=self.redis.url, backend=self.redis.url, set_as_current=False)
        self.app.conf.update(task_default_queue=self.queue, broker_connection_retry_on_startup=True)
        self.workers: list[Worker] = []

    def start_worker(self, size: int = 2, **extra_env: str) -> Worker:
        name = f"w{len(self.workers)}-{self.queue}"
        worker = Worker(self.workdir, self.redis, self.queue, extra_env, name=name, size=size)
        self.workers.append(worker)
        deadline = time.monotonic() + 30
        while not self.app.control.ping(destination=[worker.node], timeout=0.5):
            assert worker.alive(), worker.log_text()
            assert time.monotonic() < deadline, "the worker did not start within 30 s\n" + worker.log_text()
        return worker

    def send(self, task: str, *args) -> None:
        self.app.send_task(f"config_api.tasks.{task}", args=list(args), queue=self.queue)

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.redis.kill()
        self.app.close()


def wait_until(predicate, timeout: float, message: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, message() if callable(message) else message
        time.sleep(interval)


def backup_row(backup_id) -> Backup:
    return Backup.objects.get(pk=backup_id)


def wait_for_status(backup_id, statuses, timeout: float, why) -> Backup:
    statuses = (statuses,) if isinstance(statuses, str) else tuple(statuses)
    return wait_until(
        lambda: (row := backup_row(backup_id)).status in statuses and row,
        timeout,
        lambda: f"backup {backup_id} is {backup_row(backup_id).status}, expected {statuses}\n{why()}",
    )
