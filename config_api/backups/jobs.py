"""Backup and restore jobs while they run: claiming a job, its heartbeat, and the sweeper of dead jobs.

A task claims its job with one conditional UPDATE (``pending`` -> ``running``), so a message delivered twice
(late acknowledgement, Redis's visibility timeout, the sweeper re-queueing) runs a job once, and a job that
has finished or was failed by the sweeper is never run again.

While a job runs, a thread of the worker process writes ``heartbeat_at`` every ``BACKUP_HEARTBEAT_SECONDS``
on a connection of its own (the job's own transaction is read-only, or not committed yet). A process that
is killed (the whole worker, or only its pool child, as the OOM killer does) stops beating; the sweeper
(``backup_sweep_task``: Celery beat every minute, and at every worker start) then marks the job ``failed``
once its heartbeat is older than ``BACKUP_STALE_SECONDS``, and removes a backup's partial file. A restore
runs in one transaction, so a killed restore changed nothing; it is marked failed and audited. A backup
still ``pending`` that long (its message lost with the broker's data) is queued again; a restore still
pending after the broker's visibility timeout is failed (a restore must not start hours after it was asked).
"""

import logging
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.services import audit_record

from ..models import Backup, BackupStatus

logger = logging.getLogger(__name__)

PARTIAL_PREFIX = ".backup-"
PARTIAL_SUFFIX = ".zip.part"
CLAIMABLE_RESTORE = ("", BackupStatus.PENDING)  # "" only for a direct service call (never through a message)


def stale_seconds() -> int:
    return int(settings.BACKUP_STALE_SECONDS)


def backup_claim(backup_id) -> bool:
    """``pending`` -> ``running``; False when the backup is running elsewhere, finished or failed."""
    now = timezone.now()
    return bool(
        Backup.objects.filter(pk=backup_id, status=BackupStatus.PENDING).update(
            status=BackupStatus.RUNNING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1
        )
    )


def restore_claim(backup_id) -> bool:
    now = timezone.now()
    return bool(
        Backup.objects.filter(pk=backup_id, restore_status__in=CLAIMABLE_RESTORE).update(
            restore_status=BackupStatus.RUNNING, restore_started_at=now, heartbeat_at=now
        )
    )


@contextmanager
def heartbeat(backup_id):
    """Write ``heartbeat_at`` every ``BACKUP_HEARTBEAT_SECONDS`` from a thread, for as long as the block runs."""
    interval = float(settings.BACKUP_HEARTBEAT_SECONDS)
    stop = threading.Event()

    def beat():
        try:
            while not stop.wait(interval):
                try:
                    Backup.objects.filter(pk=backup_id).update(heartbeat_at=timezone.now())
                except DatabaseError as exc:  # the next beat tries again; the sweeper allows for a few misses
                    logger.warning("Backup %s: heartbeat not written (%s)", backup_id, type(exc).__name__)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"backup-heartbeat-{backup_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=interval + 5)


def pause_for_tests(label: str, _outcome=None) -> None:
    """Test settings only (``MV_TEST_BACKUP_TABLE_DELAY``): a pause after each table, so a test can kill a job
    half-way. Zero, and absent from every other settings profile."""
    delay = float(getattr(settings, "BACKUP_TEST_TABLE_DELAY_SECONDS", 0) or 0)
    if delay > 0:
        time.sleep(delay)


def is_partial_file(path: str | Path) -> bool:
    name = Path(path).name
    return name.startswith(PARTIAL_PREFIX) and name.endswith(PARTIAL_SUFFIX)


def _stale(now, seconds: int) -> Q:
    """No heartbeat for ``seconds`` (a row from before heartbeats counts from its creation)."""
    cutoff = now - timedelta(seconds=seconds)
    return Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)


def interrupted_backup_message(seconds: int) -> str:
    return (
        f"The backup was interrupted: its worker stopped reporting progress for more than {seconds} seconds "
        "(it was stopped or killed). The partial file was removed; start a new backup."
    )


def interrupted_restore_message(seconds: int) -> str:
    return (
        f"The restore was interrupted: its worker stopped reporting progress for more than {seconds} seconds "
        "(it was stopped or killed). A restore runs in one transaction, so nothing was changed; request it again."
    )


LOST_RESTORE_MESSAGE = (
    "The restore request was lost before a worker started it (the task queue lost its messages); "
    "nothing was changed; request it again."
)


def _fail_stale_backups(now, seconds: int) -> list[str]:
    failed = []
    for backup in Backup.objects.filter(_stale(now, seconds), status=BackupStatus.RUNNING):
        with transaction.atomic():
            updated = Backup.objects.filter(_stale(now, seconds), pk=backup.pk, status=BackupStatus.RUNNING).update(
                status=BackupStatus.FAILED,
                error=interrupted_backup_message(seconds),
                finished_at=now,
            )
        if not updated:  # it beat or finished meanwhile
            continue
        if backup.file_path and is_partial_file(backup.file_path):
            Path(backup.file_path).unlink(missing_ok=True)
            Backup.objects.filter(pk=backup.pk).update(file_path="")
        logger.warning("Backup %s was interrupted (no heartbeat for %s s): marked failed", backup.pk, seconds)
        failed.append(str(backup.pk))
    return failed


def _fail_stale_restores(now, seconds: int) -> list[str]:
    failed = []
    lost_after = max(seconds, int(settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)))
    cases = [
        (BackupStatus.RUNNING, seconds, interrupted_restore_message(seconds)),
        (BackupStatus.PENDING, lost_after, LOST_RESTORE_MESSAGE),
    ]
    for state, age, message in cases:
        for backup in Backup.objects.filter(_stale(now, age), restore_status=state):
            if not Backup.objects.filter(_stale(now, age), pk=backup.pk, restore_status=state).update(
                restore_status=BackupStatus.FAILED, restore_error=message
            ):
                continue
            audit_restore(backup, "", "system", error=message)
            logger.warning("Restore of backup %s was %s too long: marked failed", backup.pk, state)
            failed.append(str(backup.pk))
    return failed


def _requeue_lost_backups(now, seconds: int) -> list[str]:
    """Pending backups no worker has claimed for ``seconds``: queued again (the claim makes a duplicate a no-op)."""
    from ..tasks import backup_create_task

    if backup_create_task.app.conf.task_always_eager:  # no broker: nothing can have been lost
        return []
    requeued = []
    for backup in Backup.objects.filter(_stale(now, seconds), status=BackupStatus.PENDING):
        if Backup.objects.filter(_stale(now, seconds), pk=backup.pk, status=BackupStatus.PENDING).update(
            heartbeat_at=now
        ):
            backup_create_task.delay(str(backup.pk))
            requeued.append(str(backup.pk))
    return requeued


def _remove_orphan_partials(now, seconds: int) -> list[str]:
    """``.backup-*.zip.part`` files of jobs that no longer run (e.g. swept before this version)."""
    from .services import backup_dir

    try:
        directory = backup_dir()
        candidates = list(directory.glob(f"{PARTIAL_PREFIX}*{PARTIAL_SUFFIX}"))
    except OSError:
        return []
    in_use = set(Backup.objects.filter(status=BackupStatus.RUNNING).values_list("file_path", flat=True))
    removed = []
    for path in candidates:
        try:
            old = path.stat().st_mtime < (now - timedelta(seconds=seconds)).timestamp()
        except FileNotFoundError:
            continue
        if old and str(path) not in in_use:
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed


def stale_jobs_sweep() -> dict[str, list[str]]:
    """Fail dead backups and restores, queue lost backups again, remove orphaned partial files."""
    now, seconds = timezone.now(), stale_seconds()
    return {
        "backups_failed": _fail_stale_backups(now, seconds),
        "restores_failed": _fail_stale_restores(now, seconds),
        "backups_requeued": _requeue_lost_backups(now, seconds),
        "partial_files_removed": _remove_orphan_partials(now, seconds),
    }


def audit_restore(backup: Backup, actor_id: str, actor_name: str, *, error: str = "", tables=None) -> None:
    audit_record(
        action="backup.restore",
        actor_id=actor_id,
        actor_name=actor_name,
        resource="backup",
        resource_id=backup.pk,
        details={"sha256": backup.sha256, **({"tables": tables} if tables else {})},
        success=not error,
        error_message=error,
    )
