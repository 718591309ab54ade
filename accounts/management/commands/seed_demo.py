"""``manage.py seed_demo``: idempotent demo data. Creates ``admin@example.com`` (role admin) with the
password from ``MV_ADMIN_PASSWORD`` or a generated one, printed once when the account is created."""

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import services
from accounts.models import User
from accounts.permissions import Role

DEMO_ADMIN = "admin@example.com"


class Command(BaseCommand):
    help = "Create the demo admin account (admin@example.com) if it does not exist."

    def handle(self, *args, **options):
        if User.objects.filter(username=DEMO_ADMIN).exists():
            self.stdout.write(f"{DEMO_ADMIN} already exists; unchanged.")
            return
        password = settings.MV_ADMIN_PASSWORD
        generated = not password
        if generated:
            password = services.generate_temporary_password()
        else:
            try:
                validate_password(password, user=User(username=DEMO_ADMIN))
            except ValidationError as exc:
                raise CommandError("MV_ADMIN_PASSWORD is not acceptable: " + " ".join(exc.messages))
        with transaction.atomic():
            user = User.objects.create_user(DEMO_ADMIN, password, role=Role.ADMIN)
            services.audit_record(
                action="user.create",
                actor_id="",
                actor_name="manage.py seed_demo",
                resource="user",
                resource_id=user.pk,
                details={"username": DEMO_ADMIN, "role": Role.ADMIN},
            )
        if generated:
            self.stdout.write(f"Created {DEMO_ADMIN} (admin) with password: {password}")
            self.stdout.write("This password is shown only once; set MV_ADMIN_PASSWORD to choose your own.")
        else:
            self.stdout.write(f"Created {DEMO_ADMIN} (admin) with the password from MV_ADMIN_PASSWORD.")
