"""Retention: only finished backups older than backup_retention_days are deleted (rows and files)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import time_machine
from django.core.management import call_command

from accounts.models import AuditLog
from config_api.backups.services import backups_prune
from config_api.models import Backup, BackupStatus
from config_api.services import config_update
from config_api.tasks import backup_prune_task

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def make_backup(age: timedelta, directory: Path, status=BackupStatus.SUCCEEDED) -> Backup:
    with time_machine.travel(NOW - age, tick=False):
        backup = Backup.objects.create(status=status)
    path = directory / backup.file_name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"archive")
    Backup.objects.filter(pk=backup.pk).update(file_path=str(path))
    backup.refresh_from_db()
    return backup


def test_prune_deletes_only_what_is_older_than_the_limit(admin, isolated_paths):
    config_update(actor=admin, changes={"backup_retention_days": 30})
    directory = isolated_paths / "backups"
    old = make_backup(timedelta(days=45), directory)
    just_over = make_backup(timedelta(days=30, seconds=1), directory)
    failed_old = make_backup(timedelta(days=31), directory, status=BackupStatus.FAILED)
    just_under = make_backup(timedelta(days=29, hours=23), directory)
    recent = make_backup(timedelta(hours=1), directory)
    running_old = make_backup(timedelta(days=60), directory, status=BackupStatus.RUNNING)
    Backup.objects.filter(pk=running_old.pk).update(heartbeat_at=NOW - timedelta(seconds=10))  # alive
    stuck_old = make_backup(timedelta(days=60), directory, status=BackupStatus.RUNNING)  # its worker died

    with time_machine.travel(NOW, tick=False):
        removed = backups_prune()

    assert set(removed) == {str(old.pk), str(just_over.pk), str(failed_old.pk), str(stuck_old.pk)}
    kept = set(Backup.objects.values_list("pk", flat=True))
    assert kept == {just_under.pk, recent.pk, running_old.pk}
    for backup in (old, just_over, failed_old, stuck_old):
        assert not Path(backup.file_path).exists()
    for backup in (just_under, recent, running_old):
        assert Path(backup.file_path).exists()
    audit = AuditLog.objects.filter(action="backup.delete", details__reason="retention")
    assert audit.count() == 4


def test_retention_days_come_from_the_runtime_configuration(admin, isolated_paths):
    directory = isolated_paths / "backups"
    ten_days = make_backup(timedelta(days=10), directory)
    with time_machine.travel(NOW, tick=False):
        assert backup_prune_task.apply().get() == []  # default 30 days
        config_update(actor=admin, changes={"backup_retention_days": 7})
        assert backup_prune_task.apply().get() == [str(ten_days.pk)]


def test_prune_command_reports_what_it_did(admin, isolated_paths, capsys):
    config_update(actor=admin, changes={"backup_retention_days": 1})
    gone = make_backup(timedelta(days=2), isolated_paths / "backups")
    with time_machine.travel(NOW, tick=False):
        call_command("prune_backups")
    out = capsys.readouterr().out
    assert "older than 1 days" in out and str(gone.pk) in out and "1 backup(s) deleted" in out


def test_beat_schedule_runs_backup_at_three_and_retention_daily(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE
    backup = schedule["daily-backup"]
    assert backup["task"] == "config_api.tasks.backup_scheduled_task"
    assert backup["schedule"].hour == {3} and backup["schedule"].minute == {0}
    assert schedule["daily-backup-retention"]["task"] == "config_api.tasks.backup_prune_task"
    from majed_vanna.celery import app

    assert app.conf.beat_schedule["daily-backup"]["task"] == backup["task"]
