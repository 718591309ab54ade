"""``manage.py seed_demo``: idempotent demo data. Creates ``admin@example.com`` (role admin) with the
password from ``MV_ADMIN_PASSWORD`` or a generated one, printed once when the account is created."""

from django.conf import settings
from django.core.management.base import CommandError

from accounts import services
from accounts.models import User
from accounts.permissions import Role
from majed_vanna.commands import OperatorCommand
from majed_vanna.exceptions import ValidationFailedError

DEMO_ADMIN = "admin@example.com"


class Command(OperatorCommand):
    help = "Create the demo admin account (admin@example.com) if it does not exist."

    def handle(self, *args, **options):
        if User.objects.filter(username=DEMO_ADMIN).exists():
            self.stdout.write(f"{DEMO_ADMIN} already exists; unchanged.")
            return
        password = settings.MV_ADMIN_PASSWORD
        generated = not password
        if generated:
            password = services.generate_temporary_password()
        try:
            services.user_create_by_operator(
                username=DEMO_ADMIN, password=password, role=Role.ADMIN, actor_name="manage.py seed_demo"
            )
        except ValidationFailedError as exc:
            reasons = " ".join(message for messages in (exc.details or {}).values() for message in messages)
            raise CommandError(f"MV_ADMIN_PASSWORD is not acceptable: {reasons or exc.message}")
        if generated:
            self.stdout.write(f"Created {DEMO_ADMIN} (admin) with password: {password}")
            self.stdout.write("This password is shown only once; set MV_ADMIN_PASSWORD to choose your own.")
        else:
            self.stdout.write(f"Created {DEMO_ADMIN} (admin) with the password from MV_ADMIN_PASSWORD.")
