"""POST config/test-database and config/test-llm: real connections, bounded time, safe messages, audited.

The LLM provider is the scripted fake server on 127.0.0.1 (``majed_vanna.tests.fake_llm``); the silent database is a
socket that accepts connections and never answers.
"""

import json
import socket
import sqlite3
import time
import uuid

import pytest
from django.db import connection
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from accounts.models import AuditLog
from config_api import probes
from config_api.services import config_update
from majed_vanna.tests.fake_llm import DEFAULT_API_KEY

TEST_DB = "/api/v1/config/test-database"
TEST_LLM = "/api/v1/config/test-llm"
GOOD_KEY = DEFAULT_API_KEY


@pytest.fixture
def silent_server():
    """Accepts TCP connections (kernel backlog) and never says a word."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield sock.getsockname()[1]
    sock.close()


def configure(admin, **changes):
    config_update(actor=admin, changes=changes)


# --- test-database


def test_sqlite_data_source_success(admin, admin_client, isolated_paths):
    path = isolated_paths / "shop.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x int)")
    conn.close()
    configure(admin, data_source_url=f"sqlite:///{path}")
    response = admin_client.post(TEST_DB)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == "success"
    assert data["details"]["provider"] == "sqlite"
    assert isinstance(data["connection_time_ms"], float)
    audit = AuditLog.objects.get(action="config.test_database")
    assert audit.success is True


def test_missing_sqlite_file_is_a_failure_not_an_error(admin_client):
    data = admin_client.post(TEST_DB).json()["data"]
    assert data["status"] == "failure"
    assert data["message"] == "The data source file does not exist."
    assert AuditLog.objects.get(action="config.test_database").success is False


def test_silent_postgres_gives_up_within_the_timeout(admin, admin_client, silent_server, monkeypatch):
    monkeypatch.setattr(probes, "DB_TIMEOUT_SECONDS", 1)
    configure(admin, data_source_url=f"postgres://reader:pa55word@127.0.0.1:{silent_server}/shop")
    started = time.monotonic()
    response = admin_client.post(TEST_DB)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == "failure"
    assert elapsed < 4
    assert data["details"] == {"provider": "postgresql", "host": "127.0.0.1", "database": "shop"}
    audit = AuditLog.objects.get(action="config.test_database")
    assert "pa55word" not in response.content.decode() + str(audit.details) + audit.error_message


def test_refused_postgres_port_is_a_failure(admin, admin_client, silent_server):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    configure(admin, data_source_url=f"postgres://u:secret-pw@127.0.0.1:{port}/db")
    data = admin_client.post(TEST_DB).json()["data"]
    assert data["status"] == "failure"
    assert data["message"].startswith("Could not connect to the data source")
    assert "secret-pw" not in json.dumps(data)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a PostgreSQL server (the PG run covers it)")
def test_live_postgres_data_source_success(admin, admin_client):
    params = connection.settings_dict
    url = f"postgres://{params['USER']}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{params['NAME']}"
    configure(admin, data_source_url=url)
    data = admin_client.post(TEST_DB).json()["data"]
    assert data["status"] == "success", data
    assert data["connection_time_ms"] > 0


# --- test-llm


def test_no_provider_is_a_failure(admin_client):
    data = admin_client.post(TEST_LLM).json()["data"]
    assert data["status"] == "failure"
    assert data["message"] == "No LLM provider configured."
    assert AuditLog.objects.get(action="config.test_llm").success is False


def test_openai_compatible_provider_success(admin, admin_client, fake_llm):
    configure(
        admin, llm_provider="openai", llm_model="gpt-mini", llm_base_url=f"{fake_llm.url}/v1", llm_api_key=GOOD_KEY
    )
    response = admin_client.post(TEST_LLM)
    data = response.json()["data"]
    assert data["status"] == "success", data
    assert data["details"] == {"provider": "openai", "model": "gpt-mini", "http_status": 200}
    sent = fake_llm.requests[-1]
    assert (sent.method, sent.path) == ("POST", "/v1/chat/completions")
    assert sent.body["model"] == "gpt-mini" and sent.body["max_tokens"] == 1
    assert GOOD_KEY not in response.content.decode()
    audit = AuditLog.objects.get(action="config.test_llm")
    assert audit.success and GOOD_KEY not in str(audit.details)


def test_anthropic_provider_success(admin, admin_client, fake_llm):
    configure(admin, llm_provider="anthropic", llm_model="claude-x", llm_base_url=fake_llm.url, llm_api_key=GOOD_KEY)
    data = admin_client.post(TEST_LLM).json()["data"]
    assert data["status"] == "success", data
    sent = fake_llm.requests[-1]
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == GOOD_KEY
    assert sent.headers["anthropic-version"] == probes.ANTHROPIC_VERSION


@pytest.mark.parametrize("provider,path", [("openai", "/v1"), ("anthropic", "")])
def test_rejected_key_gives_a_safe_message(provider, path, admin, admin_client, fake_llm):
    configure(admin, llm_provider=provider, llm_model="m", llm_base_url=fake_llm.url + path, llm_api_key="sk-wrong-456")
    response = admin_client.post(TEST_LLM)
    data = response.json()["data"]
    assert data["status"] == "failure"
    assert data["message"] == "The LLM provider refused the API key (HTTP 401)."
    audit = AuditLog.objects.get(action="config.test_llm")
    assert "sk-wrong-456" not in response.content.decode() + str(audit.details) + audit.error_message


def test_slow_provider_fails_within_the_timeout(admin, admin_client, fake_llm, monkeypatch):
    monkeypatch.setattr(probes, "LLM_TIMEOUT_SECONDS", 1.0)
    fake_llm.delay = 3
    configure(admin, llm_provider="openai", llm_model="m", llm_base_url=f"{fake_llm.url}/v1", llm_api_key=GOOD_KEY)
    started = time.monotonic()
    data = admin_client.post(TEST_LLM).json()["data"]
    assert time.monotonic() - started < 2.5
    assert data["status"] == "failure"
    assert data["message"] == "The LLM provider did not answer within 1 s."


def test_unreachable_provider_is_a_failure(admin, admin_client, silent_server):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    configure(admin, llm_provider="openai", llm_model="m", llm_base_url=f"http://127.0.0.1:{port}", llm_api_key="k")
    data = admin_client.post(TEST_LLM).json()["data"]
    assert data["status"] == "failure"
    assert data["message"] == "Could not connect to the LLM provider."


def test_api_key_from_the_environment_is_used(admin, admin_client, fake_llm, settings):
    settings.LLM_API_KEY = GOOD_KEY
    configure(admin, llm_provider="openai", llm_model="m", llm_base_url=f"{fake_llm.url}/v1")
    assert admin_client.get("/api/v1/config").json()["data"]["llm_api_key_set"] is True
    assert admin_client.post(TEST_LLM).json()["data"]["status"] == "success"


def test_connection_test_rate_is_20_per_hour(admin_client):
    assert admin_client.post(TEST_DB)["X-RateLimit-Limit"] == "20"


# --- the async views keep the API's common behaviour


def test_url_names_are_unchanged():
    assert reverse("api-v1:config-test-database") == TEST_DB
    assert reverse("api-v1:config-test-llm") == TEST_LLM


def test_the_21st_test_in_an_hour_is_refused(admin_client):
    for _ in range(20):
        assert admin_client.post(TEST_DB).status_code == 200
    response = admin_client.post(TEST_DB)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED" and int(response["Retry-After"]) > 0
    assert AuditLog.objects.filter(action="config.test_database").count() == 20


def test_idempotent_retry_replays_the_result_without_testing_again(admin, admin_client, fake_llm):
    configure(admin, llm_provider="openai", llm_model="m", llm_base_url=f"{fake_llm.url}/v1", llm_api_key=GOOD_KEY)
    key = str(uuid.uuid4())
    first = admin_client.post(TEST_LLM, HTTP_IDEMPOTENCY_KEY=key, HTTP_X_REQUEST_ID="cfg-test-1")
    again = admin_client.post(TEST_LLM, HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["data"] == first.json()["data"] and first.json()["data"]["status"] == "success"
    assert len(fake_llm.requests) == 1
    audit = AuditLog.objects.get(action="config.test_llm")
    assert audit.request_id == first.json()["request_id"] == first["X-Request-Id"] == "cfg-test-1"


def test_get_is_405_with_allow(admin_client):
    response = admin_client.get(TEST_LLM)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED" and response["Allow"] == "POST, OPTIONS"


def test_openapi_documents_both_endpoints():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = {path.rstrip("/"): item for path, item in schema["paths"].items()}
    for path, words in ((TEST_DB, "SELECT 1"), (TEST_LLM, "minimal request")):
        operation = paths[path]["post"]
        assert set(paths[path]) == {"post"} and "requestBody" not in operation
        envelope = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert envelope["properties"]["data"] == {"$ref": "#/components/schemas/ConnectionTestOutput"}
        assert words in operation["description"]  # the view's own docstring, not a placeholder
        assert {"jwtAuth": []} in operation["security"]


def test_a_driver_error_without_text_is_not_shown_as_its_class_name():
    assert probes._reason(TimeoutError(), "postgres://u:pw@db/x") == "the driver gave no reason"
    assert probes._reason(sqlite3.OperationalError("unable to open database file"), "sqlite:///x.db") == (
        "unable to open database file"
    )
