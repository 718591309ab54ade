"""``manage.py ask "question" [--user EMAIL] [--data-source NAME|ID] [--conversation ID] [--json]``: one question
to the agent from the terminal, its events printed as they arrive (contract §7; operators' smoke test).

It takes the one path every transport takes (``agent.services.chat``: ``chat_prepare`` then ``chat_stream``), so
the answer is stored in the user's conversation and audited like a chat from the API. Text deltas print inline;
SQL, a small table, a chart's shape and the confidence tier each get a line. An ``error`` event ends the command
with its code and message on one line (``Error: ...``) and a non-zero exit, after ``done`` has shown the
conversation id. ``--json`` prints the events themselves, one JSON object a line.
"""

import asyncio
import json
import os
import sys
import uuid
from typing import Any

from accounts.models import User
from agent.engine import events
from majed_vanna.api.permissions import principal_permissions
from majed_vanna.commands import Error, OperatorCommand, one_line
from majed_vanna.roles import Role

TABLE_ROWS = 10
CELL_CHARS = 30


class Command(OperatorCommand):
    help = (
        "Ask the agent one question and print its answer as it streams: text, SQL, the result table, the "
        "confidence tier. The answer is stored in the user's conversations like any chat."
    )

    def add_arguments(self, parser):
        parser.add_argument("question", help="The question (1..4,000 characters), or one SELECT statement, quoted.")
        parser.add_argument("--user", default=None, help="Ask as this user (email); default: the first admin.")
        parser.add_argument(
            "--data-source", default=None, help="Data source name or id (default: the user's default one)."
        )
        parser.add_argument(
            "--conversation", default=None, help="Continue this conversation (its id, printed after each answer)."
        )
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print each event as one JSON line instead."
        )

    def handle(self, *args, question, user, data_source, conversation, as_json, **options):
        if conversation is not None:
            try:
                conversation = str(uuid.UUID(conversation.strip()))
            except ValueError:
                raise Error(f"--conversation {conversation!r} is not a conversation id (a UUID).") from None
        principal = _principal(user)
        _check_question(question)
        try:
            failure = asyncio.run(self._ask(principal, question, conversation, data_source, raw=as_json))
        except BrokenPipeError:  # e.g. piped into head: stop (the answer is stored as cancelled), quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise Error("The output was closed before the answer ended; it was cancelled.") from None
        if failure is not None:
            raise Error(one_line(error_text(failure)))

    async def _ask(self, principal, question, conversation, data_source, *, raw: bool) -> dict | None:
        from agent.llm.base import aclose_clients
        from agent.services import chat as chat_service

        failure = None
        try:
            prepared = await chat_service.chat_prepare(
                principal=principal, message=question, conversation_id=conversation, data_source=data_source
            )
            async for event in chat_service.chat_stream(prepared):
                if event["type"] == events.ERROR and failure is None:
                    failure = event["error"]
                if raw:
                    self.stdout.write(json.dumps(event, default=str, ensure_ascii=False))
                else:
                    self._print(event)
                self.stdout.flush()
        finally:
            await aclose_clients()
        return failure

    # --- readable output, one event at a time
    def _print(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == events.TEXT:
            self.stdout.write(event["content"], ending="")
        elif kind == events.SQL:
            self.stdout.write(f"\nSQL: {one_line(event['sql'], 2000)}")
        elif kind == events.TABLE:
            self.stdout.write(table_text(event))
        elif kind == events.CHART:
            self.stdout.write(chart_text(event["spec"]))
        elif kind == events.TOOL_START:
            self.stdout.write(f"\n-> {event['tool']}", ending="")
        elif kind == events.TOOL_END:
            if event["ok"]:
                self.stdout.write(f"<- {event['tool']} ok ({event['duration_ms']} ms)")
            else:
                self.stdout.write(f"<- {event['tool']} failed: {error_text(event.get('error') or {})}")
        elif kind == events.DONE:  # an error event is the command's last line (Error: ...), after done
            self.stdout.write("\n" + done_text(event))


def _check_question(question: str) -> None:
    # Imported here, not with the command: it loads the LLM SDKs (their import probes the platform with a
    # subprocess), which bad input and ``--help`` do not need.
    from agent.services import chat as chat_service

    if not question.strip():
        raise Error('The question is empty; pass it in quotes: manage.py ask "How many customers are there?"')
    if len(question) > chat_service.MAX_MESSAGE_CHARS:
        raise Error(f"The question has {len(question):,} characters; at most {chat_service.MAX_MESSAGE_CHARS:,}.")


def _principal(email: str | None) -> User:
    if email is None:
        user = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("created_at", "id").first()
        if user is None:
            raise Error("No active admin user exists: create one (createsuperuser, seed_demo) or pass --user.")
    else:
        user = User.objects.filter(username__iexact=email.strip()).first()
        if user is None:
            raise Error(f"No user {email.strip()!r}.")
        if not user.is_active:
            raise Error(f"The user {user.username} is inactive.")
    if "use_chat" not in principal_permissions(user):
        raise Error(f"The user {user.username} may not chat (no use_chat permission).")
    return user


def error_text(error: dict) -> str:
    details = error.get("details") if isinstance(error.get("details"), dict) else {}
    rule = f" (rule: {details['rule']})" if details.get("rule") else ""
    return f"{error.get('code', 'ERROR')}{rule}: {error.get('message', '')}"


def _cell(value: Any) -> str:
    text = "NULL" if value is None else " ".join(str(value).split())
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def table_text(event: dict) -> str:
    """The first ``TABLE_ROWS`` rows as aligned columns, then how many there are."""
    columns = [_cell(c) for c in event["columns"]]
    rows = [[_cell(v) for v in row] for row in event["rows"][:TABLE_ROWS]]
    widths = [max([len(c), *(len(r[i]) for r in rows if i < len(r))]) for i, c in enumerate(columns)]

    def line(cells: list[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=False)).rstrip()

    lines = [line(columns), line(["-" * w for w in widths]), *(line(r) for r in rows)]
    count = event["row_count"]
    more = f", first {len(rows)} shown" if count > len(rows) else ""
    cut = ", truncated at the data source's cap" if event.get("truncated") else ""
    lines.append(f"({count} row{'s' if count != 1 else ''}{more}{cut})")
    return "\n".join(lines)


def chart_text(spec: dict) -> str:
    mark = spec.get("mark")
    mark = mark.get("type") if isinstance(mark, dict) else mark
    encoding = spec.get("encoding") or {}
    axes = ", ".join(
        f"{axis}: {encoding[axis].get('title') or encoding[axis].get('field')}"
        for axis in ("x", "y")
        if axis in encoding
    )
    return f"Chart: {mark} ({axes})" if axes else f"Chart: {mark}"


def done_text(event: dict) -> str:
    lineage = event.get("lineage") or {}
    confidence = lineage.get("confidence") or {}
    reasons = "; ".join(confidence.get("reasons") or [])
    timings = lineage.get("timings_ms") or {}
    llm = f"LLM {timings.get('llm', 0)}, " if lineage.get("provider") else ""
    facts = [f"{event.get('execution_time_ms')} ms ({llm}SQL {timings.get('sql', 0)})"]
    if lineage.get("tables"):
        facts.insert(0, f"tables: {', '.join(lineage['tables'])}")
    if lineage.get("retries"):
        facts.append(f"retries: {lineage['retries']}")
    if lineage.get("provider"):
        facts.append(f"{lineage['provider']} {lineage.get('model') or ''}".strip())
    else:
        facts.append("offline (no LLM)")
    return "\n".join(
        [
            f"Confidence: {confidence.get('tier', '?')}" + (f" ({reasons})" if reasons else ""),
            " | ".join(facts),
            f"Conversation: {event['conversation_id']}",
        ]
    )
