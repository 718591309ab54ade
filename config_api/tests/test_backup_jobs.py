"""Jobs whose worker died: the heartbeat, the sweeper (failed with a reason, partial file removed, lost
backups queued again), and tasks that never run a job twice or bring a failed one back.

The same faults with real processes killed: ``test_worker_faults.py``."""

import os
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from accounts.models import AuditLog
from config_api.backups import jobs
from config_api.backups.services import backup_delete, backup_request, backup_run, restore_request
from config_api.models import Backup, BackupStatus
from config_api.tasks import backup_create_task, backup_sweep_task, restore_task, sweep_when_a_worker_starts
from majed_vanna.celery import app as celery_app

STALE = django_settings.BACKUP_STALE_SECONDS


def ago(seconds: float):
    return timezone.now() - timedelta(seconds=seconds)


@pytest.fixture
def backups_dir(isolated_paths):
    directory = isolated_paths / "backups"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def running_backup(directory, *, heartbeat_age: float):
    partial = directory / ".backup-abc123.zip.part"
    partial.write_bytes(b"half an archive")
    backup = Backup.objects.create(
        status=BackupStatus.RUNNING, started_at=ago(heartbeat_age + 5), heartbeat_at=ago(heartbeat_age)
    )
    Backup.objects.filter(pk=backup.pk).update(file_path=str(partial))
    return backup, partial


def test_a_backup_without_a_heartbeat_for_the_stale_time_is_failed_and_its_partial_file_removed(db, backups_dir):
    dead, partial = running_backup(backups_dir, heartbeat_age=STALE + 1)
    swept = backup_sweep_task.apply().get()
    assert swept["backups_failed"] == [str(dead.pk)]
    dead.refresh_from_db()
    assert dead.status == BackupStatus.FAILED and dead.finished_at is not None
    assert dead.error.startswith("The backup was interrupted: its worker stopped reporting progress for more than")
    assert not partial.exists() and dead.file_path == ""


def test_a_backup_that_beats_is_left_alone(db, backups_dir):
    alive, partial = running_backup(backups_dir, heartbeat_age=STALE - 30)
    assert backup_sweep_task.apply().get()["backups_failed"] == []
    alive.refresh_from_db()
    assert alive.status == BackupStatus.RUNNING and partial.exists()


def test_the_beat_schedule_sweeps_at_least_every_minute():
    entry = django_settings.CELERY_BEAT_SCHEDULE["backup-stale-sweep"]
    assert entry["task"] == "config_api.tasks.backup_sweep_task"
    assert entry["schedule"] <= 60


def test_a_worker_start_sweeps(db, backups_dir):
    dead, partial = running_backup(backups_dir, heartbeat_age=STALE + 1)
    sweep_when_a_worker_starts(sender=None)
    dead.refresh_from_db()
    assert dead.status == BackupStatus.FAILED and not partial.exists()


def test_the_visibility_timeout_outlasts_the_longest_job():
    visibility = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert visibility > django_settings.CELERY_TASK_TIME_LIMIT
    assert celery_app.conf.broker_transport_options["visibility_timeout"] == visibility
    assert celery_app.conf.task_acks_late is True and celery_app.conf.task_reject_on_worker_lost is False


def test_a_dead_backup_can_be_deleted_at_once_and_a_new_one_succeeds(
    db, admin, backups_dir, django_capture_on_commit_callbacks
):
    """Without a beat scheduler (the embedded mode) a delete sweeps first: a dead job is no longer a 409."""
    dead, partial = running_backup(backups_dir, heartbeat_age=STALE + 1)
    backup_delete(actor=admin, backup=dead)
    assert not Backup.objects.filter(pk=dead.pk).exists() and not partial.exists()
    with django_capture_on_commit_callbacks(execute=True):
        fresh = backup_request(actor=admin)
    fresh.refresh_from_db()
    assert fresh.status == BackupStatus.SUCCEEDED


def test_a_redelivered_task_never_brings_a_failed_backup_back(db, backups_dir):
    dead, _partial = running_backup(backups_dir, heartbeat_age=STALE + 1)
    backup_sweep_task.apply()
    assert backup_create_task.apply(args=[str(dead.pk)]).get() == BackupStatus.FAILED
    dead.refresh_from_db()
    assert dead.status == BackupStatus.FAILED and dead.attempts == 0
    assert list(backups_dir.glob("*.zip")) == []


def test_a_delivered_twice_backup_is_written_once(db, admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        backup = backup_request(actor=admin)
    backup.refresh_from_db()
    assert backup.status == BackupStatus.SUCCEEDED and backup.attempts == 1
    assert backup_create_task.apply(args=[str(backup.pk)]).get() == BackupStatus.SUCCEEDED
    backup.refresh_from_db()
    assert backup.attempts == 1


def test_a_backup_that_finishes_after_it_was_failed_stays_failed(db, admin, backups_dir):
    """The sweeper gave up on it (no heartbeat written, e.g. the database was unreachable) but it finished."""
    backup = Backup.objects.create(heartbeat_at=timezone.now())

    def sweep_midway(label, rows):
        Backup.objects.filter(pk=backup.pk).update(status=BackupStatus.FAILED, error="interrupted")

    backup_run(backup_id=backup.pk, progress=sweep_midway)
    backup.refresh_from_db()
    assert backup.status == BackupStatus.FAILED and backup.error == "interrupted"
    assert list(backups_dir.glob("*.zip*")) == []


def test_a_running_backup_writes_heartbeats(db, settings):
    settings.BACKUP_HEARTBEAT_SECONDS = 0.05
    backup = Backup.objects.create(heartbeat_at=ago(1000))
    spy = mock.patch.object(jobs.Backup.objects, "filter", wraps=jobs.Backup.objects.filter)
    with spy as spy, jobs.heartbeat(backup.pk):
        time.sleep(0.3)
    beats = [call for call in spy.call_args_list if call.kwargs == {"pk": backup.pk}]
    assert len(beats) >= 3


def test_a_dead_restore_is_failed_and_audited(db, backups_dir):
    backup = Backup.objects.create(
        status=BackupStatus.SUCCEEDED, restore_status=BackupStatus.RUNNING, heartbeat_at=ago(STALE + 1)
    )
    assert backup_sweep_task.apply().get()["restores_failed"] == [str(backup.pk)]
    backup.refresh_from_db()
    assert backup.restore_status == BackupStatus.FAILED
    assert "nothing was changed" in backup.restore_error
    audit = AuditLog.objects.get(action="backup.restore", resource_id=str(backup.pk))
    assert audit.success is False and audit.error_message == backup.restore_error
    # A redelivered restore message does not run it after all.
    assert restore_task.apply(args=[str(backup.pk), "", "system"]).get() == BackupStatus.FAILED


def test_a_pending_restore_is_failed_only_after_the_visibility_timeout(db):
    visibility = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    waiting = Backup.objects.create(
        status=BackupStatus.SUCCEEDED, restore_status=BackupStatus.PENDING, heartbeat_at=ago(STALE + 60)
    )
    lost = Backup.objects.create(
        status=BackupStatus.SUCCEEDED, restore_status=BackupStatus.PENDING, heartbeat_at=ago(visibility + 1)
    )
    assert backup_sweep_task.apply().get()["restores_failed"] == [str(lost.pk)]
    waiting.refresh_from_db()
    assert waiting.restore_status == BackupStatus.PENDING


def test_a_lost_pending_backup_is_queued_again_when_there_is_a_broker(db, backups_dir):
    lost = Backup.objects.create(heartbeat_at=ago(STALE + 1))
    queued = Backup.objects.create(heartbeat_at=ago(5))
    celery_app.conf.task_always_eager = False  # the eager_tasks fixture puts it back
    with mock.patch.object(backup_create_task, "delay") as delay:
        swept = jobs.stale_jobs_sweep()
    assert swept["backups_requeued"] == [str(lost.pk)]
    delay.assert_called_once_with(str(lost.pk))
    lost.refresh_from_db()
    assert lost.status == BackupStatus.PENDING and lost.heartbeat_at > ago(5)
    queued.refresh_from_db()
    assert queued.heartbeat_at < ago(4)


def test_orphaned_partial_files_are_removed_but_not_those_of_running_jobs(db, backups_dir):
    orphan = backups_dir / ".backup-orphan.zip.part"
    orphan.write_bytes(b"x")
    old = ago(STALE + 10).timestamp()
    os.utime(orphan, (old, old))
    _alive, partial = running_backup(backups_dir, heartbeat_age=1)
    os.utime(partial, (old, old))
    assert jobs.stale_jobs_sweep()["partial_files_removed"] == [orphan.name]
    assert partial.exists() and not orphan.exists()


def test_restore_request_sets_the_heartbeat(db, admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        backup = backup_request(actor=admin)
    backup.refresh_from_db()
    with mock.patch("config_api.tasks.restore_task.delay"):
        restore_request(actor=admin, backup=backup)
    backup.refresh_from_db()
    assert backup.restore_status == BackupStatus.PENDING and backup.heartbeat_at > ago(5)
