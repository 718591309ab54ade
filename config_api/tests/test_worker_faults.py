"""Faults with real processes: the broker killed under a running worker, the worker (or only its pool child)
killed in the middle of a backup. Each test has its own ``redis-server`` and workers on the prefork pool.

Conditional like ``test_worker.py``: the workers share the test database, so it must be PostgreSQL (the
second run of ``.ci/run``); SQLite test databases live in this process's memory.
"""

import os
import signal
import time
from pathlib import Path

import pytest
from django.db import connection

from config_api.backups.services import backup_delete
from config_api.models import Backup, BackupKind, BackupStatus

from .workers import REDIS_SERVER, WorkerSetup, backup_row, wait_for_status, wait_until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        connection.vendor == "sqlite" or REDIS_SERVER is None,
        reason="needs redis-server and a PostgreSQL database worker processes can share (the PG+Redis run)",
    ),
]

# A backup of the test database takes ~7 tables x 0.6 s; a job is stale after 3 s without a heartbeat.
SLOW_BACKUP = {"MV_TEST_BACKUP_TABLE_DELAY": "0.6", "BACKUP_HEARTBEAT_SECONDS": "0.5", "BACKUP_STALE_SECONDS": "3"}


@pytest.fixture
def setup(transactional_db, isolated_paths):
    workers = WorkerSetup(isolated_paths)
    yield workers
    workers.close()


def queue_backup(setup: WorkerSetup) -> Backup:
    backup = Backup.objects.create(kind=BackupKind.MANUAL, created_by_name="fault test")
    setup.send("backup_create_task", str(backup.pk))
    return backup


def partial_files(directory: Path) -> list[Path]:
    return sorted(directory.glob(".backup-*.zip.part")) if directory.is_dir() else []


def test_the_worker_survives_a_broker_outage_mid_task_and_runs_the_next_backup(setup, isolated_paths):
    """celery 5.7.0 (celery#10242) closed the lost connection after detaching its transport: with a task
    running, the worker died of ``AttributeError: 'NoneType' object has no attribute 'hostname'``."""
    worker = setup.start_worker(MV_TEST_BACKUP_TABLE_DELAY="0.6")
    first = queue_backup(setup)
    wait_for_status(first.pk, BackupStatus.RUNNING, 20, worker.log_text)

    setup.redis.kill()
    time.sleep(3)
    assert worker.alive(), "the worker exited when the broker went away:\n" + worker.log_text()[-3000:]
    assert "Unrecoverable error" not in worker.log_text()

    setup.redis.start()  # same port, empty: the queue and the unacknowledged message are gone
    assert wait_for_status(first.pk, BackupStatus.SUCCEEDED, 30, worker.log_text).sha256  # the job went on

    second = queue_backup(setup)
    done = wait_for_status(second.pk, (BackupStatus.SUCCEEDED, BackupStatus.FAILED), 60, worker.log_text)
    assert done.status == BackupStatus.SUCCEEDED, (done.error, worker.log_text()[-3000:])
    assert worker.alive() and "Unrecoverable error" not in worker.log_text()


def test_the_worker_survives_a_broker_outage_while_idle(setup):
    worker = setup.start_worker()
    setup.redis.kill()
    time.sleep(3)
    setup.redis.start()
    backup = queue_backup(setup)
    done = wait_for_status(backup.pk, (BackupStatus.SUCCEEDED, BackupStatus.FAILED), 60, worker.log_text)
    assert done.status == BackupStatus.SUCCEEDED, done.error
    assert worker.alive()


def test_a_backup_whose_worker_was_killed_is_failed_at_the_next_worker_start(setup, isolated_paths):
    worker = setup.start_worker(**SLOW_BACKUP)
    backup = queue_backup(setup)
    wait_until(lambda: partial_files(isolated_paths / "backups"), 20, worker.log_text)
    assert backup_row(backup.pk).status == BackupStatus.RUNNING

    worker.kill_all()
    time.sleep(1)
    row = backup_row(backup.pk)
    assert row.status == BackupStatus.RUNNING and partial_files(isolated_paths / "backups")  # what a crash leaves

    time.sleep(3)  # older than BACKUP_STALE_SECONDS
    replacement = setup.start_worker(**SLOW_BACKUP)  # sweeps at start (worker_ready)
    failed = wait_for_status(backup.pk, BackupStatus.FAILED, 20, replacement.log_text)
    assert "interrupted" in failed.error and "Traceback" not in failed.error
    assert failed.finished_at is not None
    assert partial_files(isolated_paths / "backups") == []

    again = queue_backup(setup)
    done = wait_for_status(again.pk, (BackupStatus.SUCCEEDED, BackupStatus.FAILED), 60, replacement.log_text)
    assert done.status == BackupStatus.SUCCEEDED, done.error
    backup_delete(actor=None, backup=backup_row(backup.pk))  # no longer 409
    assert not Backup.objects.filter(pk=backup.pk).exists()


def test_a_backup_whose_pool_child_was_killed_is_failed_by_the_sweeper(setup, isolated_paths):
    """The OOM killer takes the pool child, not the worker: the worker replaces the child and goes on; the
    sweeper (Celery beat, every minute: sent here by hand) fails the job and removes its partial file."""
    worker = setup.start_worker(size=1, **SLOW_BACKUP)
    backup = queue_backup(setup)
    wait_until(lambda: partial_files(isolated_paths / "backups"), 20, worker.log_text)
    (child,) = worker.pool_children()
    os.kill(child.pid, signal.SIGKILL)

    time.sleep(4)  # older than BACKUP_STALE_SECONDS, and the job was not re-run
    assert worker.alive()
    assert backup_row(backup.pk).status == BackupStatus.RUNNING
    setup.send("backup_sweep_task")
    failed = wait_for_status(backup.pk, BackupStatus.FAILED, 20, worker.log_text)
    assert "interrupted" in failed.error
    assert partial_files(isolated_paths / "backups") == []

    again = queue_backup(setup)
    done = wait_for_status(again.pk, (BackupStatus.SUCCEEDED, BackupStatus.FAILED), 60, worker.log_text)
    assert done.status == BackupStatus.SUCCEEDED, done.error
    assert backup_row(backup.pk).status == BackupStatus.FAILED  # a redelivery never resurrects it
