"""``manage.py create_readonly_role``: the SQL of a data source's low-privilege login role, printed or applied."""

import io

import psycopg
import pytest
from django.core.management import call_command

from agent.management.commands.create_readonly_role import source_url
from majed_vanna.commands import Error

from .runner_fixtures import *  # noqa: F403 - fixtures (sqlite_source, pg_source, runner_pools)
from .runner_fixtures import requires_postgresql


def test_it_prints_the_sql_without_connecting():
    out = io.StringIO()
    call_command(
        "create_readonly_role",
        "--database-url",
        "postgresql://admin:pw@db.example:5433/sales",
        "--role",
        "mv_sales_ro",
        "--schema",
        "public",
        "--schema",
        "mart",
        stdout=out,
    )
    text = out.getvalue()
    assert 'CREATE ROLE "mv_sales_ro" WITH LOGIN PASSWORD' in text
    for clause in ("NOSUPERUSER", "NOCREATEDB", "NOCREATEROLE", "NOREPLICATION", "NOBYPASSRLS"):
        assert clause in text
    assert 'ALTER ROLE "mv_sales_ro" SET default_transaction_read_only = on;' in text
    assert 'ALTER ROLE "mv_sales_ro" SET statement_timeout = 5000;' in text
    assert 'GRANT SELECT ON ALL TABLES IN SCHEMA "mart" TO "mv_sales_ro";' in text
    assert 'ALTER DEFAULT PRIVILEGES IN SCHEMA "public" GRANT SELECT ON TABLES TO "mv_sales_ro";' in text
    assert 'REVOKE "pg_read_server_files", "pg_write_server_files", "pg_execute_server_program"' in text
    assert "GRANT INSERT" not in text and "GRANT ALL" not in text
    url = text.strip().splitlines()[-1].removeprefix("-- Data source URL (shown once): ")
    assert url.startswith("postgresql://mv_sales_ro:") and url.endswith("@db.example:5433/sales")
    assert ":pw@" not in url


def test_a_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("RO_PASSWORD", "a-long-password-9")
    out = io.StringIO()
    call_command(
        "create_readonly_role",
        "--database-url",
        "postgresql://admin@h/db",
        "--role",
        "ro",
        "--password-env",
        "RO_PASSWORD",
        stdout=out,
    )
    assert "PASSWORD 'a-long-password-9'" in out.getvalue()
    monkeypatch.setenv("RO_PASSWORD", "short")
    with pytest.raises(Error, match="at least 12"):
        call_command(
            "create_readonly_role",
            "--database-url",
            "postgresql://a@h/db",
            "--role",
            "ro",
            "--password-env",
            "RO_PASSWORD",
        )


def test_the_source_url_keeps_the_connection_options():
    url = source_url("postgresql://admin:secret@h:5432/db?sslmode=require", role="ro", password="p/w")
    assert url == "postgresql://ro:p%2Fw@h:5432/db?sslmode=require"


@requires_postgresql
def test_apply_creates_a_role_that_can_only_read(pg_source):
    role = f"{pg_source.role}_cmd"
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(
            "create_readonly_role",
            "--database-url",
            _url(pg_source),
            "--role",
            role,
            "--apply",
            stdout=out,
            stderr=err,
        )
        url = out.getvalue().strip().splitlines()[-1].removeprefix("Data source URL (shown once): ")
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("SELECT count(*) FROM orders").fetchone() == (300,)
            assert conn.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("BEGIN READ WRITE")
                conn.execute("DELETE FROM orders")
        with pytest.raises(Error, match="already exists"):
            call_command("create_readonly_role", "--database-url", _url(pg_source), "--role", role, "--apply")
    finally:
        with pg_source.admin() as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def _url(pg_source) -> str:
    return pg_source.owner.url


def test_bad_role_names_are_refused():
    with pytest.raises(Error, match="not a valid role name"):
        call_command("create_readonly_role", "--database-url", "postgresql://a@h/db", "--role", 'x"; DROP')
