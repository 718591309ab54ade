"""The base of every project management command (contract §7): a failure is one line and a non-zero exit.

``OperatorCommand`` turns the expected failures into ``Error`` (a ``CommandError``, printed by Django as
``Error: <reason>`` on one line, exit status 1): a ``CommandError`` raised by the command, a service's
refusal (``ApplicationError``: validation, conflict, permission), a database error (unreachable, not
migrated, a row that is missing) and a confirmation nobody gave (also a question asked with ``input()`` on a
closed stdin: Django's own commands that the project wraps, e.g. ``flush``). Anything else is a bug
and keeps its traceback. Run from the command line, log records print without their tracebacks (a
failing health check logs one). ``--traceback`` shows every traceback.

A command that asks before it changes something calls ``add_confirmation_option(parser)`` and
``self.confirm(question, options)``: ``--yes`` skips the question; an answer other than ``yes``, or none at
all (stdin closed, e.g. ``</dev/null``), refuses with a one-line reason.
"""

import logging
import sys
from contextlib import contextmanager

from django.core.exceptions import ObjectDoesNotExist
from django.core.management.base import BaseCommand, CommandError, SystemCheckError
from django.db import DatabaseError

from .exceptions import ApplicationError

NO_ANSWER = "No confirmation given (stdin is closed); nothing changed. Run with --yes to skip the question."
YES_HELP = "Do not ask for confirmation (for scripts); without it the command asks on the terminal."


class Error(CommandError):
    """An expected failure: Django prints ``Error: <reason>`` and exits with ``returncode``."""


def one_line(text: str, limit: int = 500) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def database_reason(exc: DatabaseError) -> str:
    """The first line of a driver's message (``no such table: accounts_user``, ``connection ... failed``)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else "the database refused the operation"


def application_error_text(exc: ApplicationError) -> str:
    """A service's refusal as one sentence: its message, then the field messages of ``details``."""
    details = exc.details if isinstance(exc.details, dict) else {}
    parts = [
        f"{field}: {' '.join(map(str, messages)) if isinstance(messages, list | tuple) else messages}"
        for field, messages in details.items()
    ]
    return exc.message + (f" ({'; '.join(parts)})" if parts else "")


def add_confirmation_option(parser) -> None:
    parser.add_argument("--yes", "--no-input", "--noinput", action="store_true", dest="yes", help=YES_HELP)


class _OneLineRecords(logging.Filter):
    """On the terminal a log record is one line: its traceback is left out (``--traceback`` keeps it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = record.exc_text = record.stack_info = None
        return True


@contextmanager
def _log_records_on_one_line():
    handlers = list(logging.getLogger().handlers)
    one_line = _OneLineRecords()
    for handler in handlers:
        handler.addFilter(one_line)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(one_line)


class OperatorCommand(BaseCommand):
    stealth_options = ("stdin",)  # tests pass a stream in place of sys.stdin

    def execute(self, *args, **options):
        self._stdin = options.get("stdin") or sys.stdin
        if options.get("traceback"):
            return super().execute(*args, **options)
        try:
            if getattr(self, "_called_from_command_line", False):
                with _log_records_on_one_line():
                    return super().execute(*args, **options)
            return super().execute(*args, **options)
        except SystemCheckError:
            raise
        except CommandError as exc:
            raise Error(one_line(exc), returncode=exc.returncode or 1) from None
        except ApplicationError as exc:
            raise Error(one_line(application_error_text(exc))) from None
        except DatabaseError as exc:
            raise Error(one_line(f"Database error: {database_reason(exc)}")) from None
        except ObjectDoesNotExist:
            raise Error("A row this command needs no longer exists (it was deleted meanwhile); try again.") from None
        except KeyboardInterrupt:
            raise Error("Interrupted.") from None
        except EOFError:  # a question asked with input() or getpass, stdin closed
            raise Error(NO_ANSWER) from None

    def confirm(self, question: str, options: dict) -> None:
        """Go on only with ``--yes`` or the answer ``yes``; otherwise refuse (``Error``, nothing changed)."""
        if options.get("yes"):
            return
        self.stdout.write(f"{question} Type 'yes' to continue: ", ending="")
        self.stdout.flush()
        answer = self._stdin.readline()
        if not answer:
            self.stdout.write("")
            raise Error(NO_ANSWER)
        if answer.strip().lower() != "yes":
            raise Error("Cancelled; nothing changed.")
