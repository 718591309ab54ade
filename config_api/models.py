"""Runtime configuration (one row, with its change history) and the backup catalog (contract §5).

The configuration's fields are declared once, in ``config_api.fields``. Blank text fields mean "use the
environment's default" (settings ``LLM_*``, ``MV_DATA_SOURCE_URL``, ``MV_BACKUP_DIR``, ``MV_LOG_DIR``); the
effective values are what ``config_api.runtime.runtime_config_values()`` returns. No model here has a
foreign key to users: the backup catalog survives a restore that replaces the users table, and the history
names its actor the way the audit log does.
"""

import uuid

from django.db import models

# The column defaults live with the field declarations; migrations name them here.
from .fields import (  # noqa: F401
    FIELDS,
    LLMProvider,
    default_rate_limit_max_requests,
    default_rate_limit_window,
    default_retention_days,
)


class RuntimeConfiguration(models.Model):
    """The single configuration record (pk 1). Its editable columns come from ``config_api.fields.FIELDS``.
    ``stamp`` changes on every update so that every server process notices the change (``config_api.runtime``)."""

    SINGLETON_PK = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_PK, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    stamp = models.CharField(max_length=32, default="", editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by_id = models.CharField(max_length=64, blank=True, default="", editable=False)
    updated_by_name = models.CharField(max_length=254, blank=True, default="", editable=False)

    class Meta:
        verbose_name = "runtime configuration"
        verbose_name_plural = "runtime configuration"

    def __str__(self) -> str:
        return f"Runtime configuration (version {self.version})"


for _field in FIELDS:
    RuntimeConfiguration.add_to_class(_field.column, _field.model_field())


class ConfigurationChange(models.Model):
    """One accepted ``PUT config``: who, when, and the old and new values (secrets masked)."""

    id = models.BigAutoField(primary_key=True)
    changed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    changed_by_id = models.CharField(max_length=64, blank=True, default="")
    changed_by_name = models.CharField(max_length=254, blank=True, default="")
    version = models.PositiveIntegerField()
    old_values = models.JSONField(default=dict)
    new_values = models.JSONField(default=dict)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"Configuration version {self.version} by {self.changed_by_name or 'system'}"


class BackupStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class BackupKind(models.TextChoices):
    MANUAL = "manual", "Manual"
    SCHEDULED = "scheduled", "Scheduled"
    UPLOADED = "uploaded", "Uploaded"
    COMMAND = "command", "Management command"


class Backup(models.Model):
    """A backup archive in the catalog. The catalog is not part of any backup and survives restores.

    ``sha256`` is the checksum of the archive file as downloaded; ``manifest`` is a copy of the
    archive's manifest (versions, migration state, per-table row counts, payload hash).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=BackupKind.choices, default=BackupKind.MANUAL)
    status = models.CharField(max_length=16, choices=BackupStatus.choices, default=BackupStatus.PENDING)
    file_path = models.CharField(max_length=1000, blank=True, default="")
    size_bytes = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, default="")
    manifest = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by_id = models.CharField(max_length=64, blank=True, default="")
    created_by_name = models.CharField(max_length=254, blank=True, default="")
    restore_status = models.CharField(max_length=16, choices=BackupStatus.choices, blank=True, default="")
    restore_started_at = models.DateTimeField(null=True, blank=True)
    restored_at = models.DateTimeField(null=True, blank=True)
    restore_error = models.TextField(blank=True, default="")
    # An uploaded archive's own file name (as the browser or client sent it); empty for backups made here.
    uploaded_name = models.CharField(max_length=255, blank=True, default="")
    # What the last restore did per table: {label: {"action": "replaced", "rows": n} or {"action": "merged",
    # "rows_added": n, "rows_reverted": m}} (merged tables keep their newer rows, so "rows" would say nothing
    # useful there; "rows_reverted" counts rows changed since the backup and put back as backed up).
    restored_tables = models.JSONField(default=dict, blank=True)
    # The last sign of life of the job under way (a queued or running backup, or restore): set when it is queued,
    # then every few seconds while it runs. The stale-job sweeper fails a job that stopped beating
    # (config_api.backups.jobs).
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    # The catalog is never backed up or replaced by a restore (config_api.backups.registry).
    backup_policy = "exclude"

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One catalog row per uploaded archive, even for two uploads at the same moment (backup_upload).
            models.UniqueConstraint(
                fields=["sha256"], condition=models.Q(kind="uploaded"), name="backup_uploaded_sha256_unique"
            )
        ]

    def __str__(self) -> str:
        return f"Backup {self.id} ({self.status})"

    @property
    def file_name(self) -> str:
        return f"majed-vanna-backup-{self.created_at:%Y%m%dT%H%M%SZ}-{str(self.id)[:8]}.zip"
