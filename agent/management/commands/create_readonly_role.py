"""``manage.py create_readonly_role``: the SQL of a low-privilege PostgreSQL login role for one data source
(contract §7; issue 14, layer 4), printed, or applied with ``--apply``.

The role may log in and SELECT the tables (and views) of the given schemas, now and later
(default privileges), nothing else: no superuser, CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS, not a
member of ``pg_read_server_files``, ``pg_write_server_files``, ``pg_execute_server_program`` (nor of
``pg_read_all_data``/``pg_write_all_data``), its sessions read-only by default with a statement timeout.
``--apply`` runs the SQL in one transaction with the URL's (administrator's) login, then checks the result
and warns about privileges PostgreSQL gives everyone (``CREATE`` on ``public`` before PostgreSQL 15).
The password is generated unless ``--password-env`` names a variable holding one; it is shown once, in
the data source URL printed at the end.
"""

import os
import re
import secrets
from urllib.parse import quote, urlencode, urlsplit

import psycopg
from psycopg import sql

from majed_vanna.commands import Error, OperatorCommand, one_line

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
SERVER_ROLES = ("pg_read_server_files", "pg_write_server_files", "pg_execute_server_program")
FORBIDDEN_MEMBERSHIPS = (*SERVER_ROLES, "pg_read_all_data", "pg_write_all_data")


def readonly_role_statements(
    *,
    role: str,
    password: str,
    database: str,
    schemas: list[str],
    statement_timeout_ms: int = 5_000,
    connection_limit: int = 20,
) -> list[sql.Composed]:
    """The statements that create ``role`` (see the module's docstring), in order."""
    who = sql.Identifier(role)
    statements = [
        sql.SQL(
            "CREATE ROLE {} WITH LOGIN PASSWORD {} NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION "
            "NOBYPASSRLS CONNECTION LIMIT {}"
        ).format(who, sql.Literal(password), sql.Literal(int(connection_limit))),
        sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(who),
        sql.SQL("ALTER ROLE {} SET statement_timeout = {}").format(who, sql.Literal(int(statement_timeout_ms))),
        sql.SQL("ALTER ROLE {} SET idle_in_transaction_session_timeout = {}").format(
            who, sql.Literal(int(statement_timeout_ms) + 5_000)
        ),
        sql.SQL("REVOKE ALL ON DATABASE {} FROM {}").format(sql.Identifier(database), who),
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), who),
    ]
    for schema in schemas:
        name = sql.Identifier(schema)
        statements += [
            sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(name, who),
            sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(name, who),
            sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(name, who),
        ]
    statements.append(sql.SQL("REVOKE {} FROM {}").format(sql.SQL(", ").join(map(sql.Identifier, SERVER_ROLES)), who))
    return statements


def as_text(statements: list[sql.Composed]) -> str:
    return "\n".join(statement.as_string(None) + ";" for statement in statements)


def source_url(admin_url: str, *, role: str, password: str) -> str:
    """``admin_url`` with the role's login in place of the administrator's (a ``postgresql://`` URL)."""
    params = psycopg.conninfo.conninfo_to_dict(admin_url)
    host, port, dbname = params.pop("host", "localhost"), params.pop("port", None), params.pop("dbname", "")
    params.pop("user", None)
    params.pop("password", None)
    netloc = f"{quote(role, safe='')}:{quote(password, safe='')}@{host}" + (f":{port}" if port else "")
    query = f"?{urlencode(params)}" if params else ""
    return f"postgresql://{netloc}/{quote(str(dbname), safe='')}{query}"


def role_problems(conn: psycopg.Connection, role: str, schemas: list[str]) -> tuple[list[str], list[str]]:
    """(problems that make the role unsafe, warnings about privileges everyone has) after applying."""
    problems, warnings = [], []
    row = conn.execute(
        "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = %s",
        [role],
    ).fetchone()
    if row is None:
        return ["the role was not created"], []
    for flag, name in zip(row, ("SUPERUSER", "CREATEDB", "CREATEROLE", "REPLICATION", "BYPASSRLS"), strict=True):
        if flag:
            problems.append(f"it has {name}")
    for member_of in FORBIDDEN_MEMBERSHIPS:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [member_of]).fetchone()
        if exists and conn.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [role, member_of]).fetchone()[0]:
            problems.append(f"it is a member of {member_of}")
    for schema in schemas:
        if conn.execute("SELECT has_schema_privilege(%s, %s, 'CREATE')", [role, schema]).fetchone()[0]:
            warnings.append(
                f"it may create objects in schema {schema} (granted to PUBLIC): "
                f"REVOKE CREATE ON SCHEMA {sql.Identifier(schema).as_string(None)} FROM PUBLIC"
            )
    return problems, warnings


class Command(OperatorCommand):
    help = (
        "Print (or apply with --apply) the SQL of a low-privilege PostgreSQL login role for a data source: "
        "SELECT on the tables of the given schemas, read-only sessions, a statement timeout, nothing else."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--database-url", required=True, help="PostgreSQL URL of the data source, with an administrator's login"
        )
        parser.add_argument("--role", required=True, help="Name of the role to create (lower case, digits, _)")
        parser.add_argument(
            "--schema", action="append", dest="schemas", help="Schema whose tables it may read (repeat; default public)"
        )
        parser.add_argument(
            "--password-env", help="Environment variable holding the role's password (default: generate one)"
        )
        parser.add_argument(
            "--statement-timeout-ms", type=int, default=5_000, help="The role's default statement timeout (ms)"
        )
        parser.add_argument("--connection-limit", type=int, default=20, help="Connections the role may hold at once")
        parser.add_argument("--apply", action="store_true", help="Run the SQL now (default: only print it)")

    def handle(self, *args, **options):
        url, role = options["database_url"], options["role"]
        if urlsplit(url).scheme not in ("postgres", "postgresql"):
            raise Error("--database-url must be a PostgreSQL URL (postgresql://user:password@host:port/database)")
        if not ROLE_NAME.match(role):
            raise Error("--role is not a valid role name (lower-case letters, digits and _, at most 63)")
        if options["statement_timeout_ms"] < 1 or options["connection_limit"] < 1:
            raise Error("--statement-timeout-ms and --connection-limit must be at least 1")
        schemas = options["schemas"] or ["public"]
        password = self._password(options["password_env"])
        try:
            database = psycopg.conninfo.conninfo_to_dict(url).get("dbname") or ""
        except psycopg.Error:
            raise Error("--database-url is not a valid PostgreSQL URL") from None
        if not database:
            raise Error("--database-url must name the database")
        statements = readonly_role_statements(
            role=role,
            password=password,
            database=database,
            schemas=schemas,
            statement_timeout_ms=options["statement_timeout_ms"],
            connection_limit=options["connection_limit"],
        )
        url_for_source = source_url(url, role=role, password=password)
        if not options["apply"]:
            self.stdout.write(f"-- Read-only role {role} for database {database} (run as an administrator)")
            self.stdout.write(as_text(statements))
            self.stdout.write(f"-- Data source URL (shown once): {url_for_source}")
            return
        self._apply(url, role, schemas, statements)
        self.stdout.write(f"Created role {role}: SELECT on the tables of {', '.join(schemas)} in {database}.")
        self.stdout.write(f"Data source URL (shown once): {url_for_source}")

    def _password(self, variable: str | None) -> str:
        if not variable:
            return secrets.token_urlsafe(24)
        value = os.environ.get(variable, "")
        if len(value) < 12:
            raise Error(f"{variable} must hold a password of at least 12 characters")
        return value

    def _apply(self, url: str, role: str, schemas: list[str], statements: list[sql.Composed]) -> None:
        try:
            with psycopg.connect(url, connect_timeout=10, autocommit=True) as conn:
                if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
                    raise Error(f"Role {role} already exists; nothing changed (drop it or choose another name).")
                with conn.transaction():
                    for statement in statements:
                        conn.execute(statement)
                problems, warnings = role_problems(conn, role, schemas)
        except psycopg.Error as exc:
            raise Error(
                f"PostgreSQL refused: {one_line(str(exc).splitlines()[0] if str(exc) else 'no reason')}"
            ) from None
        if problems:
            raise Error(f"Role {role} was created but is not safe: {'; '.join(problems)}.")
        for warning in warnings:
            self.stderr.write(f"Warning: role {role} {warning}")
