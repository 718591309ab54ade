"""Backup catalog services: request, run, upload, delete, restore and prune backups (contract §5).

Requests (``backup_request``, ``restore_request``) only record what to do and queue a Celery task after
the transaction commits; the tasks call ``backup_run`` / ``restore_run``. Audit: ``backup.create``,
``backup.upload``, ``backup.delete``, ``backup.restore`` (written when the restore has finished, outside
its transaction, success or failure).
"""

import logging
import os
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

from django.db import DatabaseError, IntegrityError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.services import audit_record
from config_api.runtime import runtime_config_values
from majed_vanna.api.callers import principal_identity
from majed_vanna.exceptions import ConflictError, ValidationFailedError

from ..models import Backup, BackupKind, BackupStatus
from .archive import ArchiveError, Progress, sha256_file, verify_archive, write_archive
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
    backup = Backup(kind=kind, created_by_id=created_by_id, created_by_name=created_by_name)
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


def backup_run(*, backup_id, progress: Progress = None) -> Backup:
    """Write the archive for a pending (or retried) backup into ``backup_path`` and record the result."""
    Backup.objects.filter(pk=backup_id).update(
        status=BackupStatus.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1
    )
    backup = Backup.objects.get(pk=backup_id)
    directory = backup_dir()
    fd, tmp_name = tempfile.mkstemp(prefix=".backup-", suffix=".zip.part", dir=directory)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        manifest = write_archive(tmp, progress=progress)
        final = directory / backup.file_name
        tmp.replace(final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    backup.file_path = str(final)
    backup.size_bytes = final.stat().st_size
    backup.sha256 = sha256_file(final)
    backup.manifest = manifest
    backup.status = BackupStatus.SUCCEEDED
    backup.error = ""
    backup.finished_at = timezone.now()
    backup.save()
    return backup


def backup_record_error(*, backup_id, exc: BaseException, final: bool) -> None:
    """A failed attempt: ``failed`` when no retry follows, otherwise back to ``pending`` with the error shown."""
    Backup.objects.filter(pk=backup_id).update(
        status=BackupStatus.FAILED if final else BackupStatus.PENDING,
        error=describe_error(exc) if final else f"Attempt failed, retrying: {describe_error(exc)}",
        finished_at=timezone.now() if final else None,
    )


@transaction.atomic
def backup_delete(*, actor, backup: Backup) -> None:
    if backup.status in (BackupStatus.PENDING, BackupStatus.RUNNING) or backup.restore_status in (
        BackupStatus.PENDING,
        BackupStatus.RUNNING,
    ):
        raise ConflictError("This backup is still being written or restored; try again when it has finished.")
    path = backup.file_path
    backup_id = backup.pk
    backup.delete()
    audit_record(action="backup.delete", actor=actor, resource="backup", resource_id=backup_id)
    if path:
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
    changed)."""
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
        existing = backup_find_same_archive(sha256=sha256)
        if existing is not None:
            return existing, False
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
        except BaseException:
            if final is not None:  # the catalog row was rolled back: the file must not stay behind
                final.unlink(missing_ok=True)
            raise
        return backup, True
    finally:
        tmp.unlink(missing_ok=True)


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
    backup.save(update_fields=["restore_status", "restore_error", "restored_at"])
    actor_id, actor_name = _actor_fields(actor)
    transaction.on_commit(lambda: restore_task.delay(str(backup.pk), actor_id, actor_name))
    return backup


def restore_run(
    *, backup_id, actor_id: str = "", actor_name: str = "system", progress: RestoreProgress = None
) -> Backup:
    """Verify the catalog checksum and the archive, then restore it all-or-nothing; audited afterwards.

    A refused or failed restore is recorded (``restore_status`` failed, ``restore_error``) and audited
    with ``success=False``; the error is raised again for the caller (task or command).
    """
    Backup.objects.filter(pk=backup_id).update(restore_status=BackupStatus.RUNNING, restore_started_at=timezone.now())
    backup = Backup.objects.get(pk=backup_id)
    try:
        _manifest, outcomes = restore_archive(Path(backup.file_path), expected_sha256=backup.sha256, progress=progress)
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
    _audit_restore(backup, actor_id, actor_name, tables=outcomes)
    return Backup.objects.get(pk=backup_id)


def restore_record_error(*, backup_id, exc: BaseException, final: bool) -> None:
    Backup.objects.filter(pk=backup_id).update(
        restore_status=BackupStatus.FAILED if final else BackupStatus.PENDING,
        restore_error=describe_error(exc) if final else f"Attempt failed, retrying: {describe_error(exc)}",
    )


def restore_mark_failed(*, backup_id, exc: BaseException, actor: tuple[str, str]) -> None:
    """The restore has finally failed: record it and audit ``backup.restore`` with ``success=False``."""
    restore_record_error(backup_id=backup_id, exc=exc, final=True)
    backup = Backup.objects.filter(pk=backup_id).first()
    if backup is not None:
        _audit_restore(backup, actor[0], actor[1], error=describe_error(exc))


def _audit_restore(backup: Backup, actor_id: str, actor_name: str, *, error: str = "", tables=None) -> None:
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
        if path:
            Path(path).unlink(missing_ok=True)
        removed.append(backup_id)
    return removed
