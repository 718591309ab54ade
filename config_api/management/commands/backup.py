"""``manage.py backup``: write a backup now (synchronously), printing each table as it is written."""

from django.core.management.base import BaseCommand, CommandError

from config_api.backups.services import backup_record_error, backup_run
from config_api.models import Backup, BackupKind


class Command(BaseCommand):
    help = "Back up all application data into backup_path and add it to the catalog."

    def handle(self, *args, **options):
        backup = Backup.objects.create(kind=BackupKind.COMMAND, created_by_name="manage.py")
        self.stdout.write(f"Backup {backup.pk}: writing tables")

        def progress(label: str, rows: int) -> None:
            self.stdout.write(f"  {label}: {rows} rows")

        try:
            backup = backup_run(backup_id=backup.pk, progress=progress)
        except Exception as exc:
            backup_record_error(backup_id=backup.pk, exc=exc, final=True)
            raise CommandError(f"Backup failed: {type(exc).__name__}: {exc}")
        self.stdout.write(self.style.SUCCESS(f"Backup {backup.pk} succeeded"))
        self.stdout.write(f"  file: {backup.file_path}")
        self.stdout.write(f"  size: {backup.size_bytes} bytes")
        self.stdout.write(f"  sha256: {backup.sha256}")
