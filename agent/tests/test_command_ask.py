"""``manage.py ask``: one question from the terminal through the chat's one path, events printed as they come.

In-process, exactly as ``manage.py`` runs it (``majed_vanna.tests.test_commands.manage``), offline and with the
scripted fake LLM over real HTTP. The chat's ORM work runs on another thread: the tests commit their rows.
"""

import io
import json
import sys
import uuid

import pytest
from django.core.management import ManagementUtility

from accounts.models import AuditLog
from accounts.tests.factories import UserFactory
from agent.models import Conversation
from agent.services import chat  # noqa: F401 - the LLM SDKs load here, at collection (their import runs uname)
from agent.services.demo_data import demo_sqlite_install
from config_api.services import config_update
from majed_vanna.roles import Role
from majed_vanna.tests.fake_llm import openai_stream
from majed_vanna.tests.test_commands import Outcome, assert_one_line_failure

pytestmark = pytest.mark.django_db(transaction=True)

COUNT_SQL = "SELECT count(*) AS n FROM customers"


@pytest.fixture
def manage(monkeypatch, capsys):
    """``manage("ask", ...)``: ``manage.py`` run in this process as a shell runs it (exit code, stdout, stderr)."""
    from django.db import connections

    monkeypatch.setattr(connections, "close_all", lambda: None)  # run_from_argv closes them: keep the test's

    def run(*args: str) -> Outcome:
        monkeypatch.setattr(sys, "stdin", io.StringIO(""))
        capsys.readouterr()
        try:
            ManagementUtility(["manage.py", *args]).execute()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run


@pytest.fixture
def demo(own_data_dir, db):
    """The demo SQLite data source in this test's data dir (the default one)."""
    return demo_sqlite_install(by="test").source


@pytest.fixture
def no_llm(admin):
    config_update(actor=admin, changes={"llm_provider": "none"})


@pytest.fixture
def llm(admin, fake_llm):
    changes = {"llm_provider": "openai", "llm_model": "fake-model-1", "llm_base_url": fake_llm.url + "/v1"}
    config_update(actor=admin, changes={**changes, "llm_api_key": fake_llm.api_key})
    return fake_llm


def test_offline_sql_prints_sql_table_and_confidence_as_the_first_admin(manage, demo, no_llm, admin, user):
    outcome = manage("ask", "SELECT status, count(*) AS n FROM orders GROUP BY status ORDER BY status")
    assert outcome.code == 0, outcome.err
    out = outcome.out
    assert "No LLM is configured; running your SQL through the read-only gate." in out
    assert "SQL: SELECT status, count(*) AS n FROM orders GROUP BY status ORDER BY status" in out
    lines = out.splitlines()
    header = lines.index(next(line for line in lines if line.startswith("status")))
    assert lines[header].split() == ["status", "n"] and set(lines[header + 1]) <= {"-", " "}
    assert [line.split()[0] for line in lines[header + 2 : header + 6]] == [
        "cancelled",
        "delivered",
        "pending",
        "shipped",
    ]
    assert "(4 rows)" in out and "Chart: bar (x: status, y: n)" in out
    assert "Confidence: medium (the SQL ran at the first try" in out and "offline (no LLM)" in out
    conversation = Conversation.objects.get()
    assert f"Conversation: {conversation.pk}" in out
    assert conversation.user_id == admin.pk  # the first admin, not the normal user
    assert AuditLog.objects.filter(action="agent.chat", user_id=str(admin.pk), success=True).exists()


def test_llm_answer_streams_inline_and_continues_a_conversation(manage, demo, llm, admin, user):
    llm.enqueue(events=openai_stream(tool_calls=[("run_sql", {"sql": COUNT_SQL})]))
    llm.enqueue(events=openai_stream(["There are ", "many ", "customers."], usage=(20, 4)))
    first = manage("ask", "How many customers?", "--user", user.username.upper())
    assert first.code == 0, first.err
    assert "-> run_sql\nSQL: SELECT count(*) AS n FROM customers\n" in first.out
    assert "\nThere are many customers.\nConfidence: medium" in first.out
    assert "tables: customers" in first.out and "openai fake-model-1" in first.out
    conversation = Conversation.objects.get()
    assert conversation.user_id == user.pk

    llm.enqueue(events=openai_stream(["Still many."]))
    again = manage("ask", "And now?", "--user", user.username, "--conversation", str(conversation.pk))
    assert again.code == 0, again.err
    assert "Still many." in again.out and f"Conversation: {conversation.pk}" in again.out
    assert conversation.messages.count() == 4
    assert "How many customers?" in json.dumps(llm.requests[-1].body)  # the history went to the model


def test_json_prints_one_event_per_line_done_last(manage, demo, no_llm, admin):
    outcome = manage("ask", COUNT_SQL, "--json")
    assert outcome.code == 0, outcome.err
    parsed = [json.loads(line) for line in outcome.out.splitlines()]
    assert [event["type"] for event in parsed] == ["text", "tool_start", "sql", "table", "tool_end", "done"]
    assert parsed[-1]["lineage"]["row_count"] == 1 and parsed[3]["rows"][0][0] > 0


def test_an_error_event_is_a_one_line_failure_after_done(manage, demo, llm, admin):
    for statement in ("DELETE FROM orders", "DROP TABLE orders", "UPDATE orders SET total = 0"):
        llm.enqueue(events=openai_stream(tool_calls=[("run_sql", {"sql": statement})]))
    outcome = manage("ask", "Clean up the orders")
    assert_one_line_failure(outcome, "AGENT_GAVE_UP: No valid query after 3 attempt(s)")
    assert outcome.out.count("<- run_sql failed: SQL_REFUSED (rule: ") == 3
    conversation = Conversation.objects.get()
    assert f"Conversation: {conversation.pk}" in outcome.out and "Confidence: low" in outcome.out


def test_unreachable_llm_is_a_one_line_failure(manage, demo, llm, admin, settings):
    settings.LLM_MAX_RETRIES = 0
    llm.enqueue(status=500, json={"error": {"message": "upstream exploded"}})
    outcome = manage("ask", "Anything?")
    assert_one_line_failure(outcome, "LLM_UNAVAILABLE")
    assert "upstream exploded" not in outcome.out + outcome.err


@pytest.mark.parametrize(
    "args, expected",
    [
        (["ask", "hi", "--user", "nobody@example.com"], "No user 'nobody@example.com'"),
        (["ask", "hi", "--user", "{inactive}"], "is inactive"),
        (["ask", "hi", "--data-source", "no-such-source"], "Data source not found"),
        (["ask", "hi", "--conversation", "{others}"], "Conversation not found"),
        (["ask", "hi", "--conversation", "12345"], "is not a conversation id"),
        (["ask", "   "], "The question is empty"),
        (["ask", "x" * 4001], "The question has 4,001 characters; at most 4,000"),
    ],
)
def test_bad_input_is_one_line(manage, demo, no_llm, admin, args, expected):
    inactive = UserFactory(is_active=False)
    others = Conversation.objects.create(user=UserFactory(role=Role.NORMAL), title="not yours")
    args = [arg.format(inactive=inactive.username, others=others.pk) for arg in args]
    assert_one_line_failure(manage(*args), expected)
    assert Conversation.objects.count() == 1  # nothing was asked


def test_without_an_admin_the_user_must_be_named(manage, demo, user):
    assert_one_line_failure(manage("ask", "hi"), "No active admin user exists")


def test_unknown_conversation_id(manage, demo, no_llm, admin):
    assert_one_line_failure(manage("ask", "hi", "--conversation", str(uuid.uuid4())), "Conversation not found")
