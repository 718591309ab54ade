"""``manage.py restore <file>``: verify an archive and replace the application data with it (all-or-nothing)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from config_api.backups.archive import ArchiveError, verify_archive
from config_api.backups.services import restore_file


class Command(BaseCommand):
    help = "Restore application data from a backup archive (.zip). Verifies it before changing anything."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the backup archive")
        parser.add_argument(
            "--yes", "--no-input", "--noinput", action="store_true", dest="yes", help="do not ask for confirmation"
        )

    def handle(self, *args, **options):
        path = Path(options["file"]).expanduser()
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        self.stdout.write(f"Verifying {path}")
        try:
            manifest = verify_archive(path)
        except ArchiveError as exc:
            raise CommandError(f"Refused: {exc}")
        total = sum(entry["rows"] for entry in manifest["tables"])
        self.stdout.write(
            f"  backup of {manifest['created_at']} (app {manifest['app_version']}): "
            f"{len(manifest['tables'])} tables, {total} rows; checksums match"
        )
        if not options["yes"]:
            answer = input("This replaces all application data. Type 'yes' to continue: ")
            if answer.strip().lower() != "yes":
                raise CommandError("Cancelled; nothing changed.")

        def progress(label: str, rows: int) -> None:
            self.stdout.write(f"  restored {label}: {rows} rows")

        try:
            restore_file(path=path, progress=progress)
        except Exception as exc:
            raise CommandError(f"Restore failed, nothing changed: {exc}")
        self.stdout.write(self.style.SUCCESS("Restore succeeded"))
