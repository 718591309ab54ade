"""Operator commands: create_integration_client and sign_request (contract §7)."""

import io
import re
import shlex
from datetime import UTC

import pytest
from django.core.management import CommandError, call_command

from accounts.models import AuditLog
from integrations.models import IntegrationClient

from .conftest import PROBE_URLS

pytestmark = pytest.mark.django_db


def run(*args, stdin: str | None = None) -> str:
    out = io.StringIO()
    extra = {"stdin": io.StringIO(stdin)} if stdin is not None else {}
    call_command(*args, stdout=out, **extra)
    return out.getvalue()


def parse_credentials(output: str) -> dict:
    return dict(re.findall(r"^(client_id|client_secret|api_key): (\S+)$", output, re.MULTILINE))


def test_create_integration_client_prints_credentials_once_and_audits():
    output = run("create_integration_client", "--name", "ETL", "--permissions", "use_chat,read_config")
    creds = parse_credentials(output)
    assert set(creds) == {"client_id", "client_secret", "api_key"}
    row = IntegrationClient.objects.get(client_id=creds["client_id"])
    assert (row.name, row.permissions, row.created_by) == ("ETL", ["read_config", "use_chat"], None)
    audit = AuditLog.objects.get(action="client.create")
    assert (audit.username, audit.resource_id) == ("manage.py", creds["client_id"])
    assert creds["client_secret"] not in repr(audit.details)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--permissions", "system_admin"], "permissions"),
        (["--permissions", ","], "at least one"),
        (["--permissions", "use_chat", "--ip-ranges", "nope"], "allowed_ip_ranges"),
        (["--permissions", "use_chat", "--expires-at", "tomorrow"], "expires-at"),
    ],
)
def test_create_integration_client_rejects_bad_input(args, message):
    with pytest.raises(CommandError, match=message):
        run("create_integration_client", "--name", "ETL", *args)
    assert not IntegrationClient.objects.exists()


@pytest.mark.urls(PROBE_URLS)
def test_sign_request_output_authenticates_a_post_with_body(client):
    creds = parse_credentials(run("create_integration_client", "--name", "ETL", "--permissions", "use_chat"))
    body = '{"message": "hello"}'
    output = run(
        "sign_request",
        "--client-id",
        creds["client_id"],
        "--secret-file",
        "-",
        "--method",
        "POST",
        "--path",
        "/api/v1/_probe/chat?b=2",
        "--query",
        "a=1",
        "--body",
        body,
        stdin=creds["client_secret"] + "\n",
    )
    headers = dict(re.findall(r"^(X-[A-Za-z-]+): (\S+)$", output, re.MULTILINE))
    assert set(headers) == {"X-Client-Id", "X-Timestamp", "X-Nonce", "X-Signature"}
    curl = shlex.split(output.strip().splitlines()[-1])
    assert curl[:5] == ["curl", "-sS", "-X", "POST", "http://localhost:7777/api/v1/_probe/chat?b=2&a=1"]
    assert curl[curl.index("--data-binary") + 1] == body
    response = client.post(
        "/api/v1/_probe/chat?b=2&a=1", body.encode(), content_type="application/json", headers=headers
    )
    assert response.status_code == 200, response.content
    assert response.json()["data"]["data"] == {"message": "hello"}
    assert creds["client_secret"] not in output


def test_sign_request_needs_a_readable_secret(tmp_path):
    with pytest.raises(CommandError, match="secret file"):
        run("sign_request", "--client-id", "mvc_x", "--secret-file", str(tmp_path / "missing"), "--path", "/x")


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2030-01-31", "2030-01-31T00:00:00+00:00"),
        ("2030-01-31T18:00", "2030-01-31T18:00:00+00:00"),
        ("2030-01-31T18:00:00Z", "2030-01-31T18:00:00+00:00"),
        ("2030-01-31T18:00:00+02:00", "2030-01-31T16:00:00+00:00"),
        ("2030-01-31 18:00", "2030-01-31T18:00:00+00:00"),
    ],
    ids=["date", "date-time", "zulu", "offset", "space"],
)
def test_expires_at_accepts_what_its_help_says(value, expected):
    run("create_integration_client", "--name", "ETL", "--permissions", "use_chat", "--expires-at", value)
    assert IntegrationClient.objects.get().expires_at.astimezone(UTC).isoformat() == expected


@pytest.mark.parametrize("value", ["2001-01-01", "2001-01-01T00:00:00Z"])
def test_expires_at_in_the_past_is_refused_like_the_api(value):
    with pytest.raises(CommandError, match="in the past"):
        run("create_integration_client", "--name", "ETL", "--permissions", "use_chat", "--expires-at", value)
    assert not IntegrationClient.objects.exists()


def test_expires_at_error_names_the_formats_not_python():
    with pytest.raises(CommandError) as excinfo:
        run("create_integration_client", "--name", "ETL", "--permissions", "use_chat", "--expires-at", "31/01/2030")
    message = str(excinfo.value)
    assert "ISO 8601 date or date-time" in message and "isoformat" not in message


def curl_url(output: str) -> str:
    return shlex.split(output.strip().splitlines()[-1])[4]


SIGN = ["sign_request", "--client-id", "mvc_x", "--secret", "s3cret"]


def test_sign_request_base_url_defaults_to_this_installations_port(settings):
    settings.PORT = 8123
    assert curl_url(run(*SIGN, "--path", "/api/v1/auth/me")) == "http://localhost:8123/api/v1/auth/me"


def test_sign_request_honours_base_url():
    output = run(*SIGN, "--path", "/api/v1/auth/me?x=1", "--base-url", "https://api.example.com:8443/")
    assert curl_url(output) == "https://api.example.com:8443/api/v1/auth/me?x=1"


def test_sign_request_takes_the_base_url_from_a_full_path_url():
    output = run(*SIGN, "--path", "http://10.0.0.5:9000/api/v1/auth/me")
    assert curl_url(output) == "http://10.0.0.5:9000/api/v1/auth/me"
    headers = dict(re.findall(r"^(X-[A-Za-z-]+): (\S+)$", output, re.MULTILINE))
    assert set(headers) == {"X-Client-Id", "X-Timestamp", "X-Nonce", "X-Signature"}


def test_sign_request_refuses_a_base_url_without_scheme_before_printing_anything():
    out = io.StringIO()
    with pytest.raises(CommandError, match="base-url"):
        call_command(*SIGN, "--path", "/x", "--base-url", "localhost:7777", stdout=out)
    assert out.getvalue() == ""
