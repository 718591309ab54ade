"""``manage.py changepassword <username>``: set a user's password (contract §7), replacing Django's command.

Django's version set the password without an audit row and left every token the user held working, so an
operator resetting a stolen account did not end the thief's session; with stdin closed it printed a traceback.
Here the password policy holds, every session of the user ends, the change is audited (``user.password_set``,
actor ``manage.py changepassword``), and a missing answer is one line.
"""

import getpass

from django.core.management.base import CommandError

from accounts import lockout, selectors, services
from majed_vanna.commands import OperatorCommand
from majed_vanna.exceptions import ValidationFailedError

ACTOR = "manage.py changepassword"
PASSWORD_TRIES = 3


class Command(OperatorCommand):
    help = (
        "Set a user's password. It must pass the password policy (at least 12 characters, not common, not only "
        "digits); every token the user holds stops working. Asked on the terminal twice; without a terminal, "
        "read as two lines from stdin."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="The user's email address.")

    def handle(self, *args, username, **options):
        name = lockout.normalize_username(username)
        user = selectors.user_by_username(name)
        if user is None:
            raise CommandError(f"No user with username {name!r}.")
        for _ in range(PASSWORD_TRIES):
            password = self._ask_password()
            try:
                services.user_set_password_by_operator(user=user, password=password, actor_name=ACTOR)
            except ValidationFailedError as exc:
                details = exc.details or {}
                self.stderr.write(" ".join(message for messages in details.values() for message in messages))
                continue
            self.stdout.write(self.style.SUCCESS(f"Password changed for {name}; their sessions have ended."))
            return
        raise CommandError(f"No acceptable password after {PASSWORD_TRIES} tries; nothing changed.")

    def _read(self, prompt: str) -> str:
        if self._stdin.isatty():
            return getpass.getpass(prompt)
        line = self._stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\r\n")

    def _ask_password(self) -> str:
        try:
            password = self._read("Password: ")
            again = self._read("Password (again): ")
        except EOFError:
            raise CommandError("No password given (stdin is closed); nothing changed.") from None
        if password != again:
            raise CommandError("The two passwords differ; nothing changed.")
        return password
