#!/usr/bin/env bash
# faults-part: standalone
# Fault drill: the Celery worker and its broker. Runs on its own (bash scripts/faults/worker.sh) or from
# scripts/faults.sh. It starts its own redis-server (free port, no persistence) and a prefork worker on a
# database of its own (a temporary SQLite file; FAULTS_DATABASE_URL=postgres://... to use PostgreSQL), then:
#   1. kills Redis while a backup runs, and starts it again on the same port;
#   2. kills the whole worker (SIGKILL) while a backup runs, queues a backup while no worker runs and loses
#      the broker's data, then starts a worker again (it sweeps the dead job and queues the lost one again);
#   3. kills only the worker's pool child (as the OOM killer would) while a backup runs, then sweeps;
#   4. makes a last backup.
# It prints what happened to each job and fails unless every job ended succeeded, or failed with a reason,
# nothing stayed pending or running, no partial file is left, and the worker outlived the broker.
# Bounded (FAULTS_TIMEOUT seconds, 300 by default); everything it started is stopped on exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
command -v redis-server >/dev/null || { echo "worker faults: redis-server is not installed" >&2; exit 1; }

work=$(mktemp -d)
export MV_DATA_DIR="$work" MV_BACKUP_DIR="$work/backups" MV_ALLOWED_PATH_ROOTS="$work"
export DJANGO_SETTINGS_MODULE=majed_vanna.settings.test
export DATABASE_URL="${FAULTS_DATABASE_URL:-sqlite:///$work/faults.sqlite3}" DB_POOL=false
export CACHE_KEY_PREFIX="faults-worker-$$"
# Slow backups (a pause after each table: the test settings' knob) and a short stale time, to kill mid-job.
export MV_TEST_BACKUP_TABLE_DELAY=0.6 BACKUP_HEARTBEAT_SECONDS=0.5 BACKUP_STALE_SECONDS=3
trap 'rm -rf "$work"' EXIT

echo "=== worker faults (database: ${DATABASE_URL%%\?*}, work dir: $work)"
timeout --kill-after=10 "${FAULTS_TIMEOUT:-300}" .venv/bin/python - "$work" <<'PY'
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

work = Path(sys.argv[1])
redis_port = None
with socket.socket() as sock:
    sock.bind(("127.0.0.1", 0))
    redis_port = sock.getsockname()[1]
os.environ["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"

processes: dict[str, subprocess.Popen] = {}


def start_redis():
    log = (work / "redis.log").open("a")
    command = ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    processes["redis"] = subprocess.Popen(command, cwd=work, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", redis_port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("redis-server did not start")
            time.sleep(0.05)


def kill(name):
    process = processes.pop(name, None)
    if process is None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL) if name == "worker" else process.kill()
    except ProcessLookupError:
        pass
    process.wait(timeout=10)


def start_worker():
    log = (work / "worker.log").open("a")
    command = [".venv/bin/celery", "-A", "majed_vanna", "worker", "--pool=prefork", "--concurrency=2"]
    command += ["-n", f"faults-{os.getpid()}@127.0.0.1", "--without-gossip", "--without-mingle", "-l", "INFO"]
    processes["worker"] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait(lambda: "ready." in worker_log(), 30, "the worker did not start")


def worker_log() -> str:
    path = work / "worker.log"
    return path.read_text() if path.exists() else ""


def worker_alive() -> bool:
    return "worker" in processes and processes["worker"].poll() is None


def wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"FAILED: {what}\n--- worker log (end) ---\n{worker_log()[-4000:]}")
        time.sleep(0.1)


def main() -> int:
    subprocess.run([".venv/bin/python", "manage.py", "migrate", "-v0"], check=True)
    import django

    django.setup()
    from django.db import connection

    from config_api.backups.services import backup_request
    from config_api.models import Backup
    from majed_vanna.celery import app

    def row(backup):
        return Backup.objects.get(pk=backup.pk)

    def queue(label):
        backup = backup_request(actor=None)
        jobs.append((label, backup))
        return backup

    def running(backup):
        return lambda: row(backup).status == "running" and list((work / "backups").glob(".backup-*.zip.part"))

    def final(backup):
        return lambda: row(backup).status in ("succeeded", "failed")

    jobs, checks = [], []
    start_redis()
    start_worker()

    print("--- 1. Redis killed while a backup runs, then started again on the same port")
    first = queue("backup while Redis dies")
    wait(running(first), 30, "the first backup did not start")
    kill("redis")
    time.sleep(3)
    checks.append(("the worker outlived the broker", worker_alive() and "Unrecoverable error" not in worker_log()))
    start_redis()
    wait(final(first), 60, "the backup running during the outage did not finish")

    print("--- 2. the whole worker killed mid-backup; a backup queued meanwhile is lost with the broker's data")
    second = queue("backup whose worker is killed")
    wait(running(second), 30, "the second backup did not start")
    kill("worker")
    lost = queue("backup queued while no worker runs")
    time.sleep(0.5)
    kill("redis")
    start_redis()
    time.sleep(4)  # older than BACKUP_STALE_SECONDS
    start_worker()  # sweeps at start: fails the dead job, queues the lost one again
    wait(final(second), 30, "the killed backup was not swept")
    wait(final(lost), 60, "the lost backup was not queued again")

    print("--- 3. only the pool child killed mid-backup (what the OOM killer does)")
    third = queue("backup whose pool child is killed")
    wait(running(third), 30, "the third backup did not start")
    import psutil

    for child in psutil.Process(processes["worker"].pid).children():
        child.kill()
    time.sleep(4)
    checks.append(("the worker outlived its pool child", worker_alive()))
    app.send_task("config_api.tasks.backup_sweep_task")  # what beat sends every minute
    wait(final(third), 30, "the backup of the killed child was not swept")

    print("--- 4. a new backup after all that")
    last = queue("backup after the faults")
    wait(final(last), 60, "the last backup did not finish")

    print(f"{'job':<40} {'status':<10} error")
    for label, backup in jobs:
        current = row(backup)
        print(f"{label:<40} {current.status:<10} {current.error or '-'}")
        checks.append((f"{label}: finished with a reason", current.status == "succeeded" or bool(current.error)))
    checks.append(("nothing pending or running", not Backup.objects.filter(status__in=["pending", "running"]).exists()))
    checks.append(("no partial file left", not list((work / "backups").glob("*.part"))))
    checks.append(("the last backup succeeded", row(last).status == "succeeded"))
    checks.append(("the killed jobs failed with the reason", all(
        row(b).status == "failed" and "interrupted" in row(b).error for b in (second, third)
    )))
    connection.close()
    failed = [name for name, ok in checks if not ok]
    for name, ok in checks:
        print(f"{'ok ' if ok else 'FAIL'} {name}")
    return 1 if failed else 0


try:
    status = main()
finally:
    for name in list(processes):
        kill(name)
sys.exit(status)
PY
