"""Celery tasks: write a backup, restore one, the daily scheduled backup, the retention job and the sweeper
of dead jobs.

Each task loads its row through a service, which claims the job first: a redelivered message (tasks are
acknowledged late) finds its job running, finished or failed and does nothing. Transient causes
(``TRANSIENT_ERRORS``: a locked or unreachable database, a disk error) are retried with exponential
backoff, at most ``MAX_RETRIES`` times; every failed attempt is written on the backup row (``error`` /
``restore_error``) and the final failure sets the status to ``failed``. Without ``REDIS_URL`` the tasks
run eagerly in the caller's process (README "Backups"). The sweeper (``backup_sweep_task``) runs on
Celery beat every minute and once whenever a worker starts (``worker_ready``): it fails jobs whose worker
died (``backups.jobs``).
"""

import logging

from celery import Task, shared_task
from celery.signals import worker_ready
from django.db import DatabaseError, connection

from .backups.jobs import stale_jobs_sweep
from .backups.services import (
    TRANSIENT_ERRORS,
    backup_record_error,
    backup_request,
    backup_run,
    backups_prune,
    restore_mark_failed,
    restore_record_error,
    restore_run,
)
from .models import BackupKind

logger = logging.getLogger(__name__)

MAX_RETRIES = 3
RETRY_OPTIONS = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": MAX_RETRIES,
}


class BackupTask(Task):
    def on_retry(self, exc, task_id, args, kwargs, einfo):
        backup_record_error(backup_id=args[0], exc=exc, final=False)

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        logger.warning("Backup %s failed: %s", args[0], type(exc).__name__)
        backup_record_error(backup_id=args[0], exc=exc, final=True)


class RestoreTask(Task):
    def on_retry(self, exc, task_id, args, kwargs, einfo):
        restore_record_error(backup_id=args[0], exc=exc, final=False)

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        logger.warning("Restore of backup %s failed: %s", args[0], type(exc).__name__)
        if isinstance(exc, TRANSIENT_ERRORS):  # other failures were recorded and audited by restore_run
            restore_mark_failed(backup_id=args[0], exc=exc, actor=(args[1], args[2]))


@shared_task(bind=True, base=BackupTask, **RETRY_OPTIONS)
def backup_create_task(self, backup_id: str) -> str:
    return str(backup_run(backup_id=backup_id).status)


@shared_task(bind=True, base=RestoreTask, **RETRY_OPTIONS)
def restore_task(self, backup_id: str, actor_id: str = "", actor_name: str = "system") -> str:
    return str(restore_run(backup_id=backup_id, actor_id=actor_id, actor_name=actor_name).restore_status)


@shared_task(acks_late=False)
def backup_scheduled_task() -> str:
    """Celery beat, daily at 03:00 UTC: record a scheduled backup; ``backup_create_task`` writes it.
    Acknowledged on receipt: running it twice would record two backups."""
    return str(backup_request(actor=None, kind=BackupKind.SCHEDULED).pk)


@shared_task
def backup_prune_task() -> list[str]:
    """Celery beat, daily: delete backups older than ``backup_retention_days``."""
    return backups_prune()


@shared_task
def backup_sweep_task() -> dict[str, list[str]]:
    """Celery beat, every minute: fail backups and restores whose worker died, queue lost backups again."""
    return stale_jobs_sweep()


@worker_ready.connect
def sweep_when_a_worker_starts(sender=None, **kwargs) -> None:
    """A worker that starts (perhaps restarted by its supervisor after a crash) fails its dead jobs at once."""
    try:
        swept = stale_jobs_sweep()
    except DatabaseError as exc:  # the database is down: beat's next sweep will do it
        logger.warning("Stale-job sweep at worker start failed: %s", type(exc).__name__)
    else:
        if any(swept.values()):
            logger.warning("Stale-job sweep at worker start: %s", swept)
    finally:
        if not connection.in_atomic_block:  # the worker's main process gives its connection back
            connection.close()
