"""``manage.py prune_audit --older-than-days N``: audit-log retention."""

from django.core.management.base import CommandError

from accounts import services
from majed_vanna.commands import OperatorCommand


class Command(OperatorCommand):
    help = "Delete audit rows older than N days (the pruning itself is audited)."

    def add_arguments(self, parser):
        parser.add_argument("--older-than-days", type=int, required=True, help="Keep rows newer than this.")

    def handle(self, *args, older_than_days, **options):
        if older_than_days < 1:
            raise CommandError("--older-than-days must be at least 1.")
        deleted = services.audit_prune(older_than_days=older_than_days, actor_name="manage.py prune_audit")
        self.stdout.write(self.style.SUCCESS(f"Deleted {deleted} audit row(s) older than {older_than_days} day(s)."))
