"""``manage.py restore <file> [--yes]``: verify an archive and replace the application data with it
(all-or-nothing). Asks before changing anything unless ``--yes``; audited (``backup.restore``)."""

from pathlib import Path

from config_api.backups.archive import ArchiveError, verify_archive
from config_api.backups.restore import describe_outcome
from config_api.backups.services import describe_error, restore_file
from majed_vanna.commands import Error, OperatorCommand, add_confirmation_option


class Command(OperatorCommand):
    help = "Restore application data from a backup archive (.zip). Verifies it before changing anything."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the backup archive (.zip), e.g. one written by manage.py backup.")
        add_confirmation_option(parser)

    def handle(self, *args, **options):
        path = Path(options["file"]).expanduser()
        if not path.is_file():
            raise Error(f"No such file: {path}")
        self.stdout.write(f"Verifying {path}")
        try:
            manifest = verify_archive(path)
        except ArchiveError as exc:
            raise Error(f"Refused, nothing changed: {exc}")
        total = sum(entry["rows"] for entry in manifest["tables"])
        self.stdout.write(
            f"  backup of {manifest['created_at']} (app {manifest['app_version']}): "
            f"{len(manifest['tables'])} tables, {total} rows; checksums match"
        )
        self.confirm("This replaces all application data (the audit log and token tables are merged).", options)

        def progress(label: str, outcome: dict) -> None:
            self.stdout.write(f"  {describe_outcome(label, outcome)}")

        try:
            restore_file(path=path, progress=progress)
        except Exception as exc:
            raise Error(f"Restore failed, nothing changed: {describe_error(exc)}")
        self.stdout.write(self.style.SUCCESS("Restore succeeded"))
