"""Backup catalog services: request, run, upload, delete, restore and prune backups (contract §5).

Requests (``backup_request``, ``restore_request``) only record what to do and queue a Celery task after
the transaction commits; the tasks call ``backup_run`` / ``restore_run``, which claim the job first (a job
that is not pending any more is left alone) and beat while they work (``jobs``: heartbeat and the sweeper
of dead jobs). Audit: ``backup.create``, ``backup.upload``, ``backup.delete``, ``backup.restore`` (written
when the restore has finished, outside its transaction, success or failure).
"""

import logging
import os
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

from django.db import DatabaseError, IntegrityError, OperationalError, transaction
from django.utils import timezone

from accounts.services import audit_record
from config_api.runtime import runtime_config_values
from majed_vanna.api.callers import principal_identity
from majed_vanna.exceptions import ConflictError, ValidationFailedError

from ..models import Backup, BackupKind, BackupStatus
from .archive import ArchiveError, Progress, sha256_file, verify_archive, write_archive
from .jobs import (
    audit_restore,
    backup_claim,
    heartbeat,
    is_partial_file,
    pause_for_tests,
    restore_claim,
    stale_jobs_sweep,
)
from .restore import RestoreProgress, TableOutcome, restore_archive

logger = logging.getLogger(__name__)

UPLOAD_CHUNK = 1024 * 1024
ERROR_MAX = 1000
# Causes worth another attempt (a locked or unreachable database, a full or busy disk): tasks retry these
# with exponential backoff; anything else fails at once.
TRANSIENT_ERRORS = (OperationalError, OSError)


def _actor_fields(actor) -> tuple[str, str]:
    return principal_identity(actor, nobody="system")


def backup_dir() -> Path:
    path = Path(runtime_config_values()["backup_path"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def describe_error(exc: BaseException) -> str:
    """A message for people (API, admin, audit, commands): never a Python exception name or a raw driver
    message; the log gets the details of anything unexpected."""
    if isinstance(exc, ArchiveError):
        text = str(exc)
    elif isinstance(exc, IntegrityError):
        text = "The data breaks a database constraint (a duplicate key or a reference to a missing row)."
    elif isinstance(exc, DatabaseError):
        text = "The database refused the operation (it may be locked, unreachable or out of space)."
    elif isinstance(exc, OSError):
        reason = (exc.strerror or "input/output error").lower()
        text = f"A backup file or directory could not be read or written: {reason}."
    else:
        logger.error("Backup or restore failed unexpectedly", exc_info=exc)
        text = "An unexpected error occurred; the server log has the details."
    return text[:ERROR_MAX]


@transaction.atomic
def backup_request(*, actor, kind: str = BackupKind.MANUAL) -> Backup:
    """Record a pending backup and queue ``backup_create_task`` once the row is committed."""
    from ..tasks import backup_create_task

    created_by_id, created_by_name = _actor_fields(actor)
    backup = Backup(
        kind=kind, created_by_id=created_by_id, created_by_name=created_by_name, heartbeat_at=timezone.now()
    )
    backup.full_clean()
    backup.save()
    audit_record(
        action="backup.create",
        actor=actor,
        actor_name=None if actor else "system",
        resource="backup",
        resource_id=backup.pk,
        details={"kind": kind},
    )
    transaction.on_commit(lambda: backup_create_task.delay(str(backup.pk)))
    return backup


def backup_create_now(*, actor_name: str, progress: Progress = None) -> Backup:
    """``manage.py backup``: record, audit (``backup.create``) and write a backup synchronously.

    On failure the row is marked failed (with a message for people) and the error is raised again.
    """
    with transaction.atomic():
        backup = Backup(kind=BackupKind.COMMAND, created_by_name=actor_name)
        backup.full_clean()
        backup.save()
        audit_record(
            action="backup.create",
            actor_name=actor_name,
            actor_id="",
            resource="backup",
            resource_id=backup.pk,
            details={"kind": BackupKind.COMMAND},
        )
    try:
        return backup_run(backup_id=backup.pk, progress=progress)
    except Exception as exc:
        backup_record_error(backup_id=backup.pk, exc=exc, final=True)
        raise


def _with_test_pause(progress):
    def table_done(label, value):
        if progress:
            progress(label, value)
        pause_for_tests(label)

    return table_done


def backup_run(*, backup_id, progress: Progress = None) -> Backup:
    """Write the archive for a pending (or retried) backup into ``backup_path`` and record the result.

    A backup that is not pending (running elsewhere, finished, or failed by the sweeper) is returned as it is.
    While it runs, the row's ``file_path`` names the partial file (the sweeper removes it if the job dies)."""
    if not backup_claim(backup_id):
        backup = Backup.objects.get(pk=backup_id)
        logger.info("Backup %s is %s, not pending: not run again", backup_id, backup.status)
        return backup
    backup = Backup.objects.get(pk=backup_id)
    with heartbeat(backup_id):
        directory = backup_dir()
        fd, tmp_name = tempfile.mkstemp(prefix=".backup-", suffix=".zip.part", dir=directory)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            Backup.objects.filter(pk=backup_id).update(file_path=str(tmp))
            manifest = write_archive(tmp, progress=_with_test_pause(progress))
            final = directory / backup.file_name
            tmp.replace(final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        size, sha256 = final.stat().st_size, sha256_file(final)
    finished = Backup.objects.filter(pk=backup_id, status=BackupStatus.RUNNING).update(
        file_path=str(final),
        size_bytes=size,
        sha256=sha256,
        manifest=manifest,
        status=BackupStatus.SUCCEEDED,
        error="",
        finished_at=timezone.now(),
    )
    if not finished:  # the sweeper gave up on it meanwhile: it stays failed, its file goes
        final.unlink(missing_ok=True)
        logger.warning("Backup %s finished after it was marked failed; its archive was removed", backup_id)
    return Backup.objects.get(pk=backup_id)


def backup_record_error(*, backup_id, exc: BaseException, final: bool) -> None:
    """A failed attempt of a running backup: ``failed`` when no retry follows, otherwise back to ``pending``
    with the error shown. Its partial file is gone already (``backup_run``)."""
    Backup.objects.filter(pk=backup_id, status=BackupStatus.RUNNING).update(
        status=BackupStatus.FAILED if final else BackupStatus.PENDING,
        error=describe_error(exc) if final else f"Attempt failed, retrying: {describe_error(exc)}",
        finished_at=timezone.now() if final else None,
        heartbeat_at=timezone.now(),
        file_path="",
    )


def _busy(backup: Backup) -> bool:
    active = (BackupStatus.PENDING, BackupStatus.RUNNING)
    return backup.status in active or backup.restore_status in active


def backup_delete(*, actor, backup: Backup) -> None:
    if _busy(backup):  # perhaps a job whose worker died: the sweeper fails it (also without a beat scheduler)
        stale_jobs_sweep()
        backup.refresh_from_db()
    _backup_delete(actor=actor, backup=backup)


@transaction.atomic
def _backup_delete(*, actor, backup: Backup) -> None:
    if _busy(backup):
        raise ConflictError("This backup is still being written or restored; try again when it has finished.")
    path = backup.file_path
    backup_id = backup.pk
    backup.delete()
    audit_record(action="backup.delete", actor=actor, resource="backup", resource_id=backup_id)
    if path and not is_partial_file(path):
        transaction.on_commit(lambda: Path(path).unlink(missing_ok=True))


def uploaded_file_name(uploaded_file) -> str:
    """The client's file name, without any directory part (browsers and clients may send one)."""
    name = str(getattr(uploaded_file, "name", "") or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name[:255]


def backup_find_same_archive(*, sha256: str) -> Backup | None:
    """A finished backup in the catalog whose archive (still on disk) has exactly these bytes."""
    for backup in Backup.objects.filter(sha256=sha256, status=BackupStatus.SUCCEEDED).order_by("created_at"):
        if backup.file_path and Path(backup.file_path).is_file():
            return backup
    return None


def backup_upload(*, actor, uploaded_file) -> tuple[Backup, bool]:
    """Store an uploaded archive after verifying it (format, manifest, checksums, schema); otherwise 422
    ``file`` and nothing is kept. The file is streamed to disk in chunks, never read whole.

    Returns ``(backup, created)``: an archive already in the catalog (same sha256, file present) is not
    stored twice; the existing backup comes back with ``created`` false (and nothing is audited: nothing
    changed). Two uploads of one archive at the same moment make one row (a unique constraint on the sha256
    of uploaded backups): the one that loses the race answers with the other's. An uploaded backup whose
    file went missing gets this upload's file back."""
    directory = backup_dir()
    fd, tmp_name = tempfile.mkstemp(prefix=".upload-", suffix=".zip.part", dir=directory)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in uploaded_file.chunks(UPLOAD_CHUNK):
                handle.write(chunk)
        try:
            manifest = verify_archive(tmp)
        except ArchiveError as exc:
            raise ValidationFailedError("The uploaded file is not a usable backup", details={"file": [str(exc)]})
        sha256 = sha256_file(tmp)
        existing = backup_find_same_archive(sha256=sha256) or _uploaded_backup(sha256)
        if existing is not None:
            return _with_file(existing, tmp), False
        created_by_id, created_by_name = _actor_fields(actor)
        now = timezone.now()
        final = None
        try:
            with transaction.atomic():
                backup = Backup(
                    kind=BackupKind.UPLOADED,
                    status=BackupStatus.SUCCEEDED,
                    manifest=manifest,
                    size_bytes=tmp.stat().st_size,
                    sha256=sha256,
                    uploaded_name=uploaded_file_name(uploaded_file),
                    started_at=now,
                    finished_at=now,
                    created_by_id=created_by_id,
                    created_by_name=created_by_name,
                )
                backup.save()
                final = directory / backup.file_name
                backup.file_path = str(final)
                backup.save(update_fields=["file_path"])
                shutil.move(tmp, final)
                audit_record(
                    action="backup.upload",
                    actor=actor,
                    resource="backup",
                    resource_id=backup.pk,
                    details={
                        "size_bytes": backup.size_bytes,
                        "sha256": backup.sha256,
                        "uploaded_name": backup.uploaded_name,
                    },
                )
        except IntegrityError:  # the same archive was uploaded at the same moment and won the race
            if final is not None:
                final.unlink(missing_ok=True)
            existing = _uploaded_backup(sha256)
            if existing is None:
                raise
            return _with_file(existing, tmp), False
        except BaseException:
            if final is not None:  # the catalog row was rolled back: the file must not stay behind
                final.unlink(missing_ok=True)
            raise
        return backup, True
    finally:
        tmp.unlink(missing_ok=True)


def _uploaded_backup(sha256: str) -> Backup | None:
    return Backup.objects.filter(kind=BackupKind.UPLOADED, sha256=sha256).first()


def _with_file(backup: Backup, verified_copy: Path) -> Backup:
    """``backup`` with its archive on disk: a verified copy of the same bytes replaces a file that went missing."""
    path = Path(backup.file_path) if backup.file_path else backup_dir() / backup.file_name
    if not path.is_file() and verified_copy.is_file():
        shutil.move(verified_copy, path)
        if backup.file_path != str(path):
            backup.file_path = str(path)
            backup.save(update_fields=["file_path"])
    return backup


@transaction.atomic
def restore_request(*, actor, backup: Backup) -> Backup:
    """Mark the backup's restore pending and queue ``restore_task`` after commit."""
    from ..tasks import restore_task

    backup = Backup.objects.select_for_update().get(pk=backup.pk)
    if backup.status != BackupStatus.SUCCEEDED:
        raise ConflictError("Only a finished, successful backup can be restored.")
    if backup.restore_status in (BackupStatus.PENDING, BackupStatus.RUNNING):
        raise ConflictError("A restore of this backup is already under way.")
    backup.restore_status = BackupStatus.PENDING
    backup.restore_error = ""
    backup.restored_at = None
    backup.heartbeat_at = timezone.now()
    backup.save(update_fields=["restore_status", "restore_error", "restored_at", "heartbeat_at"])
    actor_id, actor_name = _actor_fields(actor)
    transaction.on_commit(lambda: restore_task.delay(str(backup.pk), actor_id, actor_name))
    return backup


def restore_run(
    *, backup_id, actor_id: str = "", actor_name: str = "system", progress: RestoreProgress = None
) -> Backup:
    """Verify the catalog checksum and the archive, then restore it all-or-nothing; audited afterwards.

    A refused or failed restore is recorded (``restore_status`` failed, ``restore_error``) and audited
    with ``success=False``; the error is raised again for the caller (task or command). A restore that is
    not pending (running elsewhere, finished, or failed by the sweeper) is returned as it is.
    """
    if not restore_claim(backup_id):
        backup = Backup.objects.get(pk=backup_id)
        logger.info("Restore of backup %s is %s, not pending: not run again", backup_id, backup.restore_status)
        return backup
    backup = Backup.objects.get(pk=backup_id)
    try:
        with heartbeat(backup_id):
            _manifest, outcomes = restore_archive(
                Path(backup.file_path), expected_sha256=backup.sha256, progress=_with_test_pause(progress)
            )
    except FileNotFoundError as exc:
        restore_mark_failed(
            backup_id=backup_id, exc=ArchiveError("The archive file is missing."), actor=(actor_id, actor_name)
        )
        raise ArchiveError("The archive file is missing.") from exc
    except TRANSIENT_ERRORS as exc:
        restore_record_error(backup_id=backup_id, exc=exc, final=False)  # the task retries or gives up
        raise
    except Exception as exc:
        restore_mark_failed(backup_id=backup_id, exc=exc, actor=(actor_id, actor_name))
        raise
    Backup.objects.filter(pk=backup_id).update(
        restore_status=BackupStatus.SUCCEEDED, restored_at=timezone.now(), restore_error="", restored_tables=outcomes
    )
    audit_restore(backup, actor_id, actor_name, tables=outcomes)
    return Backup.objects.get(pk=backup_id)


def restore_record_error(*, backup_id, exc: BaseException, final: bool) -> None:
    """A failed attempt of a running (or retried, so pending) restore; a restore the sweeper failed stays so."""
    Backup.objects.filter(pk=backup_id, restore_status__in=[BackupStatus.RUNNING, BackupStatus.PENDING]).update(
        restore_status=BackupStatus.FAILED if final else BackupStatus.PENDING,
        restore_error=describe_error(exc) if final else f"Attempt failed, retrying: {describe_error(exc)}",
        heartbeat_at=timezone.now(),
    )


def restore_mark_failed(*, backup_id, exc: BaseException, actor: tuple[str, str]) -> None:
    """The restore has finally failed: record it and audit ``backup.restore`` with ``success=False``."""
    restore_record_error(backup_id=backup_id, exc=exc, final=True)
    backup = Backup.objects.filter(pk=backup_id).first()
    if backup is not None:
        audit_restore(backup, actor[0], actor[1], error=describe_error(exc))


def restore_file(
    *, path: Path, progress: RestoreProgress = None, actor_name: str = "manage.py"
) -> dict[str, TableOutcome]:
    """``manage.py restore <file>``: verify and restore an archive that need not be in the catalog.

    Returns what was done per table (``restore.table_outcome``); audited (``backup.restore``) either way."""
    try:
        manifest, outcomes = restore_archive(path, progress=progress)
    except Exception as exc:
        audit_record(
            action="backup.restore",
            actor_name=actor_name,
            resource="backup_file",
            resource_id=path.name[:64],
            success=False,
            error_message=describe_error(exc),
        )
        raise
    audit_record(
        action="backup.restore",
        actor_name=actor_name,
        resource="backup_file",
        resource_id=path.name[:64],
        details={"payload_sha256": manifest["payload_sha256"], "tables": outcomes},
    )
    return outcomes


def backups_prune(*, actor=None) -> list[str]:
    """Delete finished backups (rows and files) older than ``backup_retention_days``; nothing else."""
    stale_jobs_sweep()  # a job whose worker died would otherwise be kept for ever
    days = int(runtime_config_values()["backup_retention_days"])
    cutoff = timezone.now() - timedelta(days=days)
    expired = (
        Backup.objects.filter(created_at__lt=cutoff)
        .exclude(status__in=[BackupStatus.PENDING, BackupStatus.RUNNING])
        .exclude(restore_status__in=[BackupStatus.PENDING, BackupStatus.RUNNING])
    )
    removed = []
    for backup in expired:
        path, backup_id = backup.file_path, str(backup.pk)
        with transaction.atomic():
            backup.delete()
            audit_record(
                action="backup.delete",
                actor=actor,
                actor_name=None if actor else "system",
                resource="backup",
                resource_id=backup_id,
                details={"reason": "retention", "retention_days": days},
            )
        if path and not is_partial_file(path):
            Path(path).unlink(missing_ok=True)
        removed.append(backup_id)
    return removed
