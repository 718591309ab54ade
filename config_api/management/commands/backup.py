"""``manage.py backup``: write a backup now (synchronously), printing each table as it is written.
Audited like ``POST backups`` (``backup.create``, actor ``manage.py``)."""

from config_api.backups.services import backup_create_now, describe_error
from majed_vanna.commands import Error, OperatorCommand

ACTOR = "manage.py"


class Command(OperatorCommand):
    help = "Back up all application data into backup_path and add it to the catalog."

    def handle(self, *args, **options):
        self.stdout.write("Writing a backup")

        def progress(label: str, rows: int) -> None:
            self.stdout.write(f"  {label}: {rows} rows")

        try:
            backup = backup_create_now(actor_name=ACTOR, progress=progress)
        except Exception as exc:
            raise Error(f"Backup failed: {describe_error(exc)}")
        self.stdout.write(self.style.SUCCESS(f"Backup {backup.pk} succeeded"))
        self.stdout.write(f"  file: {backup.file_path}")
        self.stdout.write(f"  size: {backup.size_bytes} bytes")
        self.stdout.write(f"  sha256: {backup.sha256}")
