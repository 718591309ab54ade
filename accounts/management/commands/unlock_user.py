"""``manage.py unlock_user <username>``: lift a login lockout (contract §3, §7)."""

from django.core.management.base import CommandError

from accounts import lockout, selectors, services
from majed_vanna.commands import OperatorCommand


class Command(OperatorCommand):
    help = "Lift the login lockout of a user (after repeated failed logins)."

    def add_arguments(self, parser):
        parser.add_argument("username", help="The user's email address.")

    def handle(self, *args, username, **options):
        name = lockout.normalize_username(username)
        user = selectors.user_by_username(name)
        if user is None:
            raise CommandError(f"No user with username {name!r}.")
        was_locked = services.user_unlock(actor=None, user=user, actor_name="manage.py unlock_user")
        self.stdout.write(self.style.SUCCESS(f"Unlocked {name}." if was_locked else f"{name} was not locked."))
