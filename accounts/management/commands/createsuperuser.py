"""``manage.py createsuperuser``: create an ``admin`` role user (contract §7), replacing Django's command.

Django's version skips the password validators with ``--noinput`` (``DJANGO_SUPERUSER_PASSWORD=short``
made a 5-character admin password) and offers to bypass them interactively. Here the password policy
holds on every path (``AUTH_PASSWORD_VALIDATORS``: at least 12 characters, not common, not all digits, not
like the username), and the user is created and audited (``user.create``, actor ``manage.py``) by the same
service rules as the API.
"""

import getpass
import os

from django.core.management.base import CommandError

from accounts.permissions import Role
from accounts.services import user_create_by_operator
from majed_vanna.commands import OperatorCommand
from majed_vanna.exceptions import ValidationFailedError

ACTOR = "manage.py"
PASSWORD_TRIES = 3


def _messages(exc: ValidationFailedError) -> str:
    details = exc.details or {}
    return " ".join(message for messages in details.values() for message in messages) or exc.message


class Command(OperatorCommand):
    help = (
        "Create an admin-role user. The password must pass the password policy (at least 12 characters, "
        "not common, not only digits). Non-interactive: --noinput with DJANGO_SUPERUSER_PASSWORD set."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--username", help="The new admin's email address (or DJANGO_SUPERUSER_USERNAME); asked for if missing."
        )
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Ask nothing: the username comes from --username or DJANGO_SUPERUSER_USERNAME, the password "
            "from DJANGO_SUPERUSER_PASSWORD.",
        )

    def handle(self, *args, username=None, interactive=True, **options):
        username = username or os.environ.get("DJANGO_SUPERUSER_USERNAME", "")
        if not interactive:
            password = os.environ.get("DJANGO_SUPERUSER_PASSWORD", "")
            if not username:
                raise CommandError("--noinput needs --username or DJANGO_SUPERUSER_USERNAME.")
            if not password:
                raise CommandError("--noinput needs the password in DJANGO_SUPERUSER_PASSWORD.")
            user = self._create(username, password)
        else:
            user = self._create_interactively(username)
        self.stdout.write(self.style.SUCCESS(f"Created {user.username} (role admin)."))

    def _create(self, username: str, password: str):
        try:
            return user_create_by_operator(username=username, password=password, role=Role.ADMIN, actor_name=ACTOR)
        except ValidationFailedError as exc:
            raise CommandError(_messages(exc))

    def _create_interactively(self, username: str):
        if not username:
            self.stdout.write("Email address: ", ending="")
            self.stdout.flush()
            username = self._stdin.readline().strip()
            if not username:
                raise CommandError("No email address given; nothing created.")
        for _ in range(PASSWORD_TRIES):
            password = self._ask_password()
            try:
                return user_create_by_operator(username=username, password=password, role=Role.ADMIN, actor_name=ACTOR)
            except ValidationFailedError as exc:
                if "password" not in (exc.details or {}):
                    raise CommandError(_messages(exc))
                self.stderr.write(_messages(exc))
        raise CommandError(f"No acceptable password after {PASSWORD_TRIES} tries; nothing created.")

    def _ask_password(self) -> str:
        try:
            password = getpass.getpass("Password: ")
            again = getpass.getpass("Password (again): ")
        except EOFError:
            raise CommandError(
                "No password given (stdin is closed); nothing created. Use --noinput with "
                "DJANGO_SUPERUSER_PASSWORD in scripts."
            )
        if password != again:
            raise CommandError("The two passwords differ; nothing created.")
        return password
