"""The tool-call log never keeps a secret: secret-named keys and passwords inside URLs are redacted before a row
is written, and logging never fails the call it records."""

import pytest
from django.db import transaction

from agent.models import ToolCall
from agent.services.tool_calls import redact, tool_call_record

pytestmark = pytest.mark.django_db

SECRETS = ["hunter2", "sk-live-123", "tok-abc", "client-s3cret", "db-pass-9", "Bearer xyz"]


def test_secret_named_keys_are_redacted_at_any_depth():
    args = {
        "password": "hunter2",
        "api_key": "sk-live-123",
        "nested": {"token": "tok-abc", "items": [{"client_secret": "client-s3cret"}], "db_password": "db-pass-9"},
        "Authorization": "Bearer xyz",
        "sql": "SELECT 1",
        "limit": 5,
        "must_change_password": True,
    }
    redacted = redact(args)
    assert not any(secret in str(redacted) for secret in SECRETS), redacted
    assert redacted["sql"] == "SELECT 1" and redacted["limit"] == 5
    assert redacted["must_change_password"] is True  # a flag about a password is not one
    assert redacted["nested"]["items"][0]["client_secret"] == "[redacted]"


@pytest.mark.parametrize(
    ("text", "secret", "kept"),
    [
        ("postgresql://reader:s3cret-pass@db.example.com:5432/shop", "s3cret-pass", "reader:********@db.example.com"),
        ("SELECT * FROM dblink('postgres://u:pw1234@h/db', 'x')", "pw1234", "u:********@h"),
        ("postgresql://db.example.com/shop?sslmode=require&password=qwerty", "qwerty", "sslmode=require"),
        ("host=db user=reader password=topsecret dbname=shop", "topsecret", "dbname=shop"),
        ("api_key='abc123xyz' and more", "abc123xyz", "and more"),
    ],
)
def test_passwords_inside_strings_are_masked(text, secret, kept):
    masked = redact({"sql": text})["sql"]
    assert secret not in masked and kept in masked, masked


def test_text_without_secrets_is_kept_as_written():
    sql = "SELECT password_hash, token_count FROM users WHERE url = 'https://example.com/a:b'"
    assert redact({"sql": sql}) == {"sql": sql}


def test_long_and_deep_arguments_are_bounded():
    deep: dict = {}
    node = deep
    for _ in range(50):
        node["x"] = {}
        node = node["x"]
    redacted = redact({"sql": "S" * 50_000, "deep": deep, "other": object()})
    assert len(redacted["sql"]) <= 4_000 and redacted["sql"].endswith("…")
    assert "[redacted]" in str(redacted["deep"])  # cut at a bounded depth
    assert isinstance(redacted["other"], str)


def test_a_logged_call_holds_no_secret(user):
    row = tool_call_record(
        principal=user,
        tool="run_sql",
        args={"sql": "SELECT 'postgresql://a:hunter2@h/db'", "password": "hunter2"},
        duration_ms=12.5,
        success=False,
        error_code="SQL_REFUSED",
        conversation_id=None,
    )
    stored = ToolCall.objects.get(pk=row.pk)
    assert "hunter2" not in str(stored.arguments)
    assert (stored.user_id, stored.caller_name, stored.error_code) == (user.pk, user.username, "SQL_REFUSED")


def test_a_call_that_cannot_be_logged_is_dropped_without_failing_the_caller(user):
    with transaction.atomic():
        assert (
            tool_call_record(
                principal=user,
                tool="run_sql",
                args={},
                duration_ms=1,
                success=True,
                conversation_id="not-a-uuid",
            )
            is None
        )
        ToolCall.objects.count()  # the caller's transaction is still usable
    assert not ToolCall.objects.exists()
