"""Every project management command (found in every app's ``management/commands/``, not listed by hand)
answers bad input with one line on stderr and a non-zero exit, never a traceback; every option has a help
text (contract §7). The commands run in-process exactly as ``manage.py`` runs them (``run_from_argv``)."""

import io
import re
import sys
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import ManagementUtility, get_commands, load_command_class
from django.db import OperationalError, connection

pytestmark = pytest.mark.django_db

EXCEPTION_NAME = re.compile(r"\b[A-Z]\w*(Error|Exception)\b|\bBadZipFile\b|Traceback")


def project_commands() -> dict[str, str]:
    """``{command: app name}`` for the commands of this repository's apps (not Django's, not libraries')."""
    base = Path(settings.BASE_DIR).resolve()
    ours = {
        config.name
        for config in apps.get_app_configs()
        if Path(config.path).resolve().is_relative_to(base)
        and not Path(config.path).resolve().is_relative_to(base / ".venv")
    }
    return {name: app for name, app in get_commands().items() if app in ours}


@dataclass
class Outcome:
    code: int
    out: str
    err: str


@pytest.fixture
def manage(monkeypatch, capsys):
    """``manage("restore", "x.zip", stdin="")``: run ``manage.py <args>`` in this process, as a shell would."""
    from django.db import connections

    monkeypatch.setattr(connections, "close_all", lambda: None)  # run_from_argv closes them: keep the test's

    def run(*args: str, stdin: str = "") -> Outcome:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        try:
            ManagementUtility(["manage.py", *args]).execute()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run


def assert_one_line_failure(outcome: Outcome, expected: str) -> None:
    """Exit status not 0; stderr ends with one ``Error: <reason>`` line (log records, one line each, may come
    before it); no traceback anywhere."""
    assert outcome.code != 0, outcome
    lines = outcome.err.strip().splitlines()
    errors = [line for line in lines if line.startswith("Error: ")]
    assert errors == lines[-1:], outcome.err
    assert expected in errors[0], errors[0]
    assert not EXCEPTION_NAME.search(errors[0].removeprefix("Error: ")), errors[0]
    assert "Traceback" not in outcome.out + outcome.err, outcome.err
    assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ ", line) for line in lines[:-1]), outcome.err


# --- bad input for every command -------------------------------------------------------------------------


def _valid_archive(tmp_path: Path) -> str:
    from config_api.backups.services import backup_create_now

    return backup_create_now(actor_name="test").file_path


def _a_user(tmp_path: Path) -> str:
    from accounts.tests.factories import UserFactory

    return UserFactory().username


def _undecryptable_client(tmp_path: Path) -> None:
    from integrations.models import IntegrationClient
    from integrations.services import client_create

    issued = client_create(name="ETL", description="", permissions=["use_chat"], allowed_ip_ranges=[], actor=None)
    IntegrationClient.objects.filter(pk=issued.client.pk).update(secret_encrypted="not-a-fernet-token")


@dataclass
class Case:
    args: list[str]
    expected: str
    stdin: str = ""
    setup: Callable[[Path], object] | None = None  # returns a value substituted for "{setup}" in args
    env: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)


BAD_INPUT = {
    "backup": [Case(["backup"], "Backup failed", settings={"MV_BACKUP_DIR": "{tmp}/a-file/backups"})],
    "restore": [
        Case(["restore", "{tmp}/missing.zip"], "No such file"),
        Case(["restore", "{tmp}/a-file"], "Refused, nothing changed: The file is not a zip archive"),
        Case(["restore", "{setup}"], "No confirmation given", stdin="", setup=_valid_archive),
        Case(["restore", "{setup}"], "Cancelled; nothing changed", stdin="no\n", setup=_valid_archive),
    ],
    "prune_backups": [Case(["prune_backups"], "Database error: no such table", settings={"_break_db": True})],
    "prune_audit": [Case(["prune_audit", "--older-than-days", "0"], "at least 1")],
    "seed_demo": [Case(["seed_demo"], "MV_ADMIN_PASSWORD is not acceptable", settings={"MV_ADMIN_PASSWORD": "short"})],
    "unlock_user": [Case(["unlock_user", "nobody@example.com"], "No user")],
    "changepassword": [
        Case(["changepassword", "nobody@example.com"], "No user"),
        Case(["changepassword", "{setup}"], "No password given", stdin="", setup=_a_user),
        Case(
            ["changepassword", "{setup}"], "passwords differ", stdin="a-long-password-1\nanother-one-2\n", setup=_a_user
        ),
    ],
    # Django's flush asked with input(): with stdin closed it printed an EOFError traceback.
    "flush": [Case(["flush"], "No confirmation given", stdin="")],
    "createsuperuser": [
        Case(["createsuperuser", "--noinput", "--username", "ops@example.com"], "too short", env={"PW": "short"}),
        Case(["createsuperuser", "--noinput", "--username", "ops@example.com"], "DJANGO_SUPERUSER_PASSWORD"),
        Case(["createsuperuser", "--noinput", "--username", "not-an-email"], "email", env={"PW": "a-long-password-1"}),
    ],
    "create_integration_client": [
        Case(["create_integration_client", "--name", "ETL", "--permissions", "system_admin"], "permissions"),
        Case(
            ["create_integration_client", "--name", "ETL", "--permissions", "use_chat", "--expires-at", "tomorrow"],
            "not an ISO 8601 date",
        ),
        Case(
            ["create_integration_client", "--name", "ETL", "--permissions", "use_chat", "--expires-at", "2001-01-01"],
            "in the past",
        ),
    ],
    "sign_request": [
        Case(["sign_request", "--client-id", "mvc_x", "--secret-file", "{tmp}/missing", "--path", "/x"], "secret file"),
        Case(
            ["sign_request", "--client-id", "mvc_x", "--secret", "s", "--path", "/x", "--base-url", "h:1"], "base-url"
        ),
        Case(["sign_request", "--client-id", "mvc_x", "--secret", "s", "--path", "api/v1/x"], "must start with /"),
    ],
    "reencrypt_client_secrets": [
        Case(["reencrypt_client_secrets"], "could not be decrypted", setup=_undecryptable_client)
    ],
    "reencrypt_secrets": [
        Case(["reencrypt_secrets", "--field", "nope"], "Unknown field nope"),
        Case(["reencrypt_secrets"], "could not be decrypted", setup=_undecryptable_client),
    ],
    "load_demo_data": [
        Case(["load_demo_data", "--database-url", "sqlite:///demo.sqlite3"], "must be a PostgreSQL URL"),
        Case(
            ["load_demo_data", "--database-url", "postgresql://reader:s3cret@127.0.0.1:1/shop"],
            "Could not load the demo data into postgresql://reader:********@127.0.0.1:1/shop",
        ),
    ],
    "sync_semantic_layer": [
        Case(["sync_semantic_layer", "--data-source", "nowhere"], "No data source named 'nowhere'")
    ],
    "check_health": [Case(["check_health"], "Service is unhealthy", settings={"_break_health": True})],
    "run_eval": [Case(["run_eval", "no-such-set"], "No evaluation set")],
    "import_eval": [
        Case(["import_eval", "{tmp}/missing.json", "{tmp}"], "Cannot read"),
        Case(["import_eval", "{tmp}/a-file", "{tmp}"], "Cannot read"),
    ],
    "import_memory": [
        Case(["import_memory", "{tmp}/missing.json"], "Cannot read"),
        Case(["import_memory", "{tmp}/a-file"], "Cannot read"),
    ],
    "train_agent": [
        Case(["train_agent", "{tmp}/missing"], "is not a directory"),
        Case(["train_agent", "{tmp}"], "No .sql, .md, .txt or .json training file"),
    ],
    "ask": [
        Case(["ask", "How many customers?"], "No active admin user exists"),
        Case(["ask", "How many customers?", "--user", "nobody@example.com"], "No user 'nobody@example.com'"),
        Case(["ask", "How many customers?", "--conversation", "12345"], "is not a conversation id"),
    ],
    "create_readonly_role": [
        Case(["create_readonly_role", "--database-url", "sqlite:///x.db", "--role", "ro"], "must be a PostgreSQL URL"),
        Case(
            ["create_readonly_role", "--database-url", "postgres://a@h/db", "--role", "Bad;"], "not a valid role name"
        ),
        Case(
            ["create_readonly_role", "--database-url", "postgres://a@127.0.0.1:1/db", "--role", "ro", "--apply"],
            "PostgreSQL refused",
        ),
    ],
}


def test_every_project_command_has_bad_input_cases():
    """A new command joins this module's BAD_INPUT (and so the one-line-failure checks below)."""
    assert sorted(project_commands()) == sorted(BAD_INPUT)


def _prepare(case: Case, tmp_path: Path, monkeypatch, settings_fixture, stack: ExitStack) -> list[str]:
    (tmp_path / "a-file").write_text("not a directory, not a zip")
    if case.env.get("PW"):
        monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", case.env["PW"])
    else:
        monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    for name, value in case.settings.items():
        if name == "_break_health":
            from health.registry import check_overridden

            def broken():
                raise ConnectionError("down")

            stack.enter_context(check_overridden("cache", broken, required=True))
        elif not name.startswith("_"):
            setattr(settings_fixture, name, value.format(tmp=tmp_path) if isinstance(value, str) else value)
    from config_api import runtime

    runtime.publish_stamp(None)
    produced = case.setup(tmp_path) if case.setup else None
    return [arg.format(tmp=tmp_path, setup=produced) for arg in case.args]


@pytest.fixture
def isolated(settings, tmp_path):
    """Backups under this test's tmp dir; contexts entered by ``_prepare`` are left at the end."""
    settings.MV_BACKUP_DIR = str(tmp_path / "backups")
    settings.MV_ALLOWED_PATH_ROOTS = [str(tmp_path)]
    with ExitStack() as stack:
        yield stack


def _failing_queries(execute, sql, params, many, context):
    raise OperationalError("no such table: config_api_backup\nLINE 1: SELECT ...")


@pytest.mark.parametrize(
    "case",
    [case for cases in BAD_INPUT.values() for case in cases],
    ids=[f"{name}-{i}" for name, cases in BAD_INPUT.items() for i in range(len(cases))],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(case, manage, tmp_path, monkeypatch, settings, isolated):
    args = _prepare(case, tmp_path, monkeypatch, settings, isolated)
    if case.settings.get("_break_db"):
        with connection.execute_wrapper(_failing_queries):
            outcome = manage(*args, stdin=case.stdin)
    else:
        outcome = manage(*args, stdin=case.stdin)
    assert_one_line_failure(outcome, case.expected)


@pytest.mark.parametrize(
    "args",
    [
        ["unlock_user", "someone@example.com"],
        ["prune_audit", "--older-than-days", "30"],
        ["seed_demo"],
        ["backup"],
        ["prune_backups"],
        ["createsuperuser", "--noinput", "--username", "ops@example.com"],
        ["create_integration_client", "--name", "ETL", "--permissions", "use_chat"],
    ],
    ids=lambda args: args[0],
)
def test_a_failing_database_is_one_line_too(args, manage, monkeypatch, isolated):
    """Not migrated, unreachable, locked: the driver's first line, no traceback."""
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-password-1")
    with connection.execute_wrapper(_failing_queries):
        outcome = manage(*args)
    assert outcome.code != 0
    assert_one_line_failure(outcome, "")


def test_restore_without_confirmation_changes_nothing(manage, tmp_path, isolated):
    from accounts.models import AuditLog
    from accounts.tests.factories import UserFactory

    archive = _valid_archive(tmp_path)
    UserFactory(username="after-the-backup@example.com")
    assert_one_line_failure(manage("restore", archive, stdin=""), "Run with --yes")
    assert_one_line_failure(manage("restore", archive, stdin="no\n"), "Cancelled")
    from accounts.models import User

    assert User.objects.filter(username="after-the-backup@example.com").exists()
    assert not AuditLog.objects.filter(action="backup.restore").exists()
    done = manage("restore", archive, "--yes")
    assert done.code == 0, done.err
    assert not User.objects.filter(username="after-the-backup@example.com").exists()


# --- help texts --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(project_commands()))
def test_every_option_has_a_help_text(name):
    command = load_command_class(project_commands()[name], name)
    assert command.help, name
    parser = command.create_parser("manage.py", name)
    missing = [action.dest for action in parser._actions if not (action.help or "").strip()]
    assert missing == [], f"{name}: options without help: {missing}"


# --- the real thing, as the first-time user typed it ------------------------------------------------------


@pytest.mark.slow
def test_real_manage_py_restore_with_stdin_closed(tmp_path, isolated):
    """``manage.py restore FILE </dev/null`` printed an EOFError traceback."""
    import subprocess

    from majed_vanna.tests.servers import BASE_DIR, migrated_sqlite, server_env

    archive = _valid_archive(tmp_path)  # written here; the schema (migrations) is the subprocess's too
    env = server_env(data_dir=tmp_path, settings_module="majed_vanna.settings.test", extra=migrated_sqlite(tmp_path))
    restore = subprocess.run(
        [sys.executable, "manage.py", "restore", archive],
        cwd=BASE_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert restore.returncode == 1
    assert restore.stderr.strip().splitlines() == [
        "Error: No confirmation given (stdin is closed); nothing changed. Run with --yes to skip the question."
    ]
    assert "Traceback" not in restore.stdout + restore.stderr
