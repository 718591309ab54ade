"""``manage.py prune_backups``: delete backups older than backup_retention_days (rows and files)."""

from django.core.management.base import BaseCommand, CommandError

from config_api.backups.services import backups_prune
from config_api.runtime import runtime_config_values


class Command(BaseCommand):
    help = "Delete backups older than the configured retention (backup_retention_days)."

    def handle(self, *args, **options):
        days = runtime_config_values()["backup_retention_days"]
        self.stdout.write(f"Deleting backups older than {days} days")
        try:
            removed = backups_prune()
        except Exception as exc:
            raise CommandError(f"Pruning failed: {type(exc).__name__}: {exc}")
        for backup_id in removed:
            self.stdout.write(f"  deleted {backup_id}")
        self.stdout.write(self.style.SUCCESS(f"{len(removed)} backup(s) deleted"))
