"""Backups get a heartbeat (the stale-job sweeper) and one catalog row per uploaded archive.

Catalogs that already hold the same uploaded archive twice (two uploads at the same moment, before this
constraint) keep the oldest row; the later rows go, and their file too when it is a separate copy."""

from pathlib import Path

from django.db import migrations, models


def drop_duplicate_uploads(apps, schema_editor):
    Backup = apps.get_model("config_api", "Backup")
    kept: dict[str, str] = {}
    for backup in Backup.objects.filter(kind="uploaded").exclude(sha256="").order_by("created_at", "id"):
        if backup.sha256 not in kept:
            kept[backup.sha256] = backup.file_path
            continue
        if backup.file_path and backup.file_path != kept[backup.sha256]:
            Path(backup.file_path).unlink(missing_ok=True)
        backup.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("config_api", "0004_runtimeconfiguration_rate_limits"),
    ]

    operations = [
        migrations.AddField(
            model_name="backup",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(drop_duplicate_uploads, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="backup",
            constraint=models.UniqueConstraint(
                condition=models.Q(("kind", "uploaded")), fields=("sha256",), name="backup_uploaded_sha256_unique"
            ),
        ),
    ]
