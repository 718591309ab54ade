"""``manage.py load_demo_data --database-url postgresql://...``: the demo rows (the same as ``seed_demo``'s
SQLite file) loaded into a PostgreSQL database and registered as a data source (contract §7)."""

from urllib.parse import urlsplit

import psycopg

from agent.demo import TABLES, DemoTablesExist
from config_api.validation import data_source_provider, mask_url
from majed_vanna.commands import Error, OperatorCommand, one_line

BY = "manage.py load_demo_data"


class Command(OperatorCommand):
    help = (
        "Create the demo tables (customers, products, employees, orders, order_items) in a PostgreSQL database, "
        "load the demo rows into them and register the database as a data source. Idempotent: tables that "
        "already hold the demo rows are left as they are."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--database-url",
            required=True,
            help="postgresql://user:password@host:5432/database (the user needs CREATE on its schema)",
        )
        parser.add_argument(
            "--name", default="demo-postgresql", help="Name of the data source (default demo-postgresql)"
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help=f"Drop tables named {', '.join(TABLES)} that hold other rows, then load (otherwise refused)",
        )

    def handle(self, *args, **options):
        from agent.services import demo_postgresql_install

        url = options["database_url"].strip()
        if data_source_provider(url) != "postgresql":
            raise Error("--database-url must be a PostgreSQL URL (postgresql://user:password@host:5432/database).")
        try:
            done = demo_postgresql_install(url=url, name=options["name"], replace=options["replace"], by=BY)
        except DemoTablesExist as exc:
            raise Error(
                f"The database already has table(s) {exc} holding other rows; nothing changed. Pass --replace to "
                "drop and reload them."
            ) from None
        except psycopg.Error as exc:
            password = _password(url)
            reason = one_line(str(exc).strip().splitlines()[0] if str(exc).strip() else "no reason given", 300)
            if password:
                reason = reason.replace(str(password), "********")
            raise Error(f"Could not load the demo data into {mask_url(url)}: {reason}") from None
        loaded = "Loaded the demo rows into" if done.built else "The demo rows are already in"
        self.stdout.write(f"{loaded} {mask_url(url)}.")
        state = "Registered it as" if done.registered else "Already registered as"
        self.stdout.write(f"{state} the data source {done.source.name!r}.")


def _password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None
