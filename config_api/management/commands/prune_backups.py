"""``manage.py prune_backups``: delete backups older than backup_retention_days (rows and files)."""

from config_api.backups.services import backups_prune, describe_error
from config_api.runtime import runtime_config_values
from majed_vanna.commands import Error, OperatorCommand


class Command(OperatorCommand):
    help = "Delete backups older than the configured retention (backup_retention_days)."

    def handle(self, *args, **options):
        days = runtime_config_values()["backup_retention_days"]
        self.stdout.write(f"Deleting backups older than {days} days")
        try:
            removed = backups_prune()
        except Exception as exc:
            raise Error(f"Pruning failed: {describe_error(exc)}")
        for backup_id in removed:
            self.stdout.write(f"  deleted {backup_id}")
        self.stdout.write(self.style.SUCCESS(f"{len(removed)} backup(s) deleted"))
