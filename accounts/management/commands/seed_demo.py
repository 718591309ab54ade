"""``manage.py seed_demo``: idempotent demo data. Creates ``admin@example.com`` (role admin) with the
password from ``MV_ADMIN_PASSWORD`` or a generated one, printed once when the account is created; builds the
demo database ``$MV_DATA_DIR/demo.sqlite3`` once and registers it as a data source, and saves the demo's
question→SQL pairs as approved memories of that source so that offline mode answers out of the box
(``agent.services``)."""

from django.conf import settings
from django.core.management.base import CommandError

from accounts import services
from accounts.models import User
from accounts.permissions import Role
from majed_vanna.commands import OperatorCommand
from majed_vanna.exceptions import ValidationFailedError

DEMO_ADMIN = "admin@example.com"
BY = "manage.py seed_demo"


class Command(OperatorCommand):
    help = (
        "Create the demo admin account (admin@example.com) if it does not exist, build the demo database "
        "$MV_DATA_DIR/demo.sqlite3 if it does not exist and register it as a data source (the default one "
        "unless the runtime configuration names another), and save the demo's saved questions (question -> SQL) "
        "for it."
    )

    def handle(self, *args, **options):
        self._seed_admin()
        self._seed_demo_data()

    def _seed_admin(self):
        if User.objects.filter(username=DEMO_ADMIN).exists():
            self.stdout.write(f"{DEMO_ADMIN} already exists; unchanged.")
            return
        password = settings.MV_ADMIN_PASSWORD
        generated = not password
        if generated:
            password = services.generate_temporary_password()
        try:
            services.user_create_by_operator(username=DEMO_ADMIN, password=password, role=Role.ADMIN, actor_name=BY)
        except ValidationFailedError as exc:
            reasons = " ".join(message for messages in (exc.details or {}).values() for message in messages)
            raise CommandError(f"MV_ADMIN_PASSWORD is not acceptable: {reasons or exc.message}")
        if generated:
            self.stdout.write(f"Created {DEMO_ADMIN} (admin) with password: {password}")
            self.stdout.write("This password is shown only once; set MV_ADMIN_PASSWORD to choose your own.")
        else:
            self.stdout.write(f"Created {DEMO_ADMIN} (admin) with the password from MV_ADMIN_PASSWORD.")

    def _seed_demo_data(self):
        from agent.services import demo_eval_set_install, demo_questions_save, demo_sqlite_install

        try:
            done = demo_sqlite_install(by=BY)
        except OSError as exc:
            raise CommandError(f"Could not write the demo database: {exc.strerror or exc}") from None
        if done.built:
            self.stdout.write(f"Built the demo database {done.path} (customers, products, employees, orders).")
        else:
            self.stdout.write(f"The demo database {done.path} already exists; unchanged.")
        role = "the default data source" if done.source.is_default else "a data source"
        state = "registered as" if done.registered else "already registered as"
        self.stdout.write(f"Demo database {state} {role} {done.source.name!r}.")
        created, existing = demo_questions_save(source=done.source, by=BY)
        if created:
            self.stdout.write(f"Saved {created} demo questions (question -> SQL) for {done.source.name!r}.")
        if existing:
            self.stdout.write(f"{existing} demo questions were already saved; unchanged.")
        eval_set, added = demo_eval_set_install(source=done.source, by=BY)
        if added:
            self.stdout.write(
                f"Saved the evaluation set {eval_set.name!r} ({added} cases): manage.py run_eval to score it."
            )
