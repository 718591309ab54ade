"""GET/PUT config: who sees what, validation per field, history and audit without secrets, the default rate."""

import pytest
from django.urls import reverse

from accounts.models import AuditLog
from accounts.tests.factories import UserFactory
from config_api.models import ConfigurationChange, RuntimeConfiguration
from config_api.selectors import llm_api_key
from majed_vanna.roles import Role

CONFIG_URL = "/api/v1/config"
PUBLIC_FIELDS = {
    "database_provider",
    "llm_provider",
    "llm_model",
    "rate_limit_max_requests",
    "rate_limit_window",
    "circuit_breaker_failure_threshold",
    "circuit_breaker_timeout",
    "version",
    "environment",
}

ADMIN_ROUTES = [
    ("put", CONFIG_URL),
    ("post", "/api/v1/config/test-database"),
    ("post", "/api/v1/config/test-llm"),
    ("get", "/api/v1/backups"),
    ("post", "/api/v1/backups"),
    ("get", "/api/v1/backups/00000000-0000-0000-0000-000000000000"),
    ("delete", "/api/v1/backups/00000000-0000-0000-0000-000000000000"),
    ("get", "/api/v1/backups/00000000-0000-0000-0000-000000000000/download"),
    ("post", "/api/v1/backups/00000000-0000-0000-0000-000000000000/restore"),
    ("post", "/api/v1/backups/upload"),
]


def test_url_names_resolve():
    assert reverse("api-v1:config") == CONFIG_URL
    assert reverse("api-v1:backups-list") == "/api/v1/backups"


@pytest.mark.parametrize("role", [Role.NORMAL, Role.SUPERUSER])
def test_non_admin_reads_public_fields_only(role, api_client_for):
    response = api_client_for(UserFactory(role=role)).get(CONFIG_URL)
    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == PUBLIC_FIELDS
    assert data["database_provider"] == "sqlite"
    assert data["llm_provider"] == "none"
    assert response["X-RateLimit-Limit"] == "60"


def test_admin_sees_more_but_never_a_secret(admin_client):
    admin_client.put(
        CONFIG_URL,
        {"data_source_url": "postgres://reader:s3cret-pw@127.0.0.1:5432/shop", "llm_api_key": "sk-live-abc123"},
        format="json",
    )
    response = admin_client.get(CONFIG_URL)
    data = response.json()["data"]
    assert set(data) > PUBLIC_FIELDS
    assert data["data_source_url"] == "postgres://reader:********@127.0.0.1:5432/shop"
    assert data["database_provider"] == "postgresql"
    assert data["llm_api_key_set"] is True
    assert "s3cret-pw" not in response.content.decode()
    assert "sk-live-abc123" not in response.content.decode()


@pytest.mark.parametrize("method,url", ADMIN_ROUTES)
@pytest.mark.parametrize("role", [Role.NORMAL, Role.SUPERUSER])
def test_non_admin_is_refused_everywhere_but_get_config(method, url, role, api_client_for):
    client = api_client_for(UserFactory(role=role))
    response = getattr(client, method)(url, {}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "PERMISSION_DENIED"


@pytest.mark.parametrize("method,url", [*ADMIN_ROUTES, ("get", CONFIG_URL)])
def test_anonymous_caller_gets_401_everywhere(method, url, api_client, db):
    response = getattr(api_client, method)(url, {}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AUTHENTICATION_FAILED"


def test_put_applies_partial_update_keeps_history_and_audits_without_secrets(admin, admin_client):
    response = admin_client.put(
        CONFIG_URL,
        {
            "rate_limit_max_requests": 250,
            "llm_provider": "openai",
            "llm_model": "gpt-test",
            "llm_api_key": "sk-top-secret-1",
            "data_source_url": "postgresql://bob:hunter2@127.0.0.1:5432/sales",
        },
        format="json",
    )
    assert response.status_code == 200
    body = response.json()["data"]
    assert body["message"] == "Configuration updated"
    updated = body["updated_config"]
    assert updated["rate_limit_max_requests"] == 250
    assert updated["rate_limit_window"] == 3600  # untouched
    assert updated["llm_provider"] == "openai"
    assert updated["config_version"] == 2

    config = RuntimeConfiguration.objects.get()
    assert config.llm_api_key_encrypted and "sk-top-secret-1" not in config.llm_api_key_encrypted
    assert llm_api_key(config) == "sk-top-secret-1"

    change = ConfigurationChange.objects.get()
    assert change.changed_by_name == admin.username
    assert change.old_values["rate_limit_max_requests"] == 1000
    assert change.new_values["rate_limit_max_requests"] == 250
    assert change.new_values["data_source_url"] == "postgresql://bob:********@127.0.0.1:5432/sales"
    assert change.new_values["llm_api_key_status"] == "set"

    audit = AuditLog.objects.get(action="config.update")
    assert audit.user_id == str(admin.pk)
    assert audit.details["old"]["rate_limit_max_requests"] == 1000
    assert audit.details["new"]["rate_limit_max_requests"] == 250
    text = str(audit.details) + str(change.old_values) + str(change.new_values)
    assert "hunter2" not in text and "sk-top-secret-1" not in text


def test_put_masked_password_keeps_the_stored_one(admin_client):
    admin_client.put(CONFIG_URL, {"data_source_url": "postgres://bob:hunter2@127.0.0.1/sales"}, format="json")
    masked = admin_client.get(CONFIG_URL).json()["data"]["data_source_url"]
    assert masked == "postgres://bob:********@127.0.0.1/sales"
    response = admin_client.put(CONFIG_URL, {"data_source_url": masked, "rate_limit_window": 60}, format="json")
    assert response.status_code == 200
    assert RuntimeConfiguration.objects.get().data_source_url == "postgres://bob:hunter2@127.0.0.1/sales"


def test_put_invalid_shapes_answer_422_per_field_and_change_nothing(admin_client):
    response = admin_client.put(
        CONFIG_URL,
        {
            "rate_limit_max_requests": 0,
            "rate_limit_window": 86401,
            "circuit_breaker_failure_threshold": 101,
            "circuit_breaker_timeout": "soon",
            "backup_retention_days": 0,
            "llm_provider": "skynet",
            "backup_path": "/etc",
            "data_source_url": "http://127.0.0.1/",
        },
        format="json",
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert set(error["details"]) == {
        "rate_limit_max_requests",
        "rate_limit_window",
        "circuit_breaker_failure_threshold",
        "circuit_breaker_timeout",
        "backup_retention_days",
        "llm_provider",
        "backup_path",
        "data_source_url",
    }
    assert not RuntimeConfiguration.objects.exists()
    assert not AuditLog.objects.filter(action="config.update").exists()


def test_put_unknown_field_and_empty_body_are_422(admin_client):
    response = admin_client.put(CONFIG_URL, {"api_secret": "x"}, format="json")
    assert response.status_code == 422
    assert response.json()["error"]["details"] == {"api_secret": ["Unknown or read-only field."]}
    response = admin_client.put(CONFIG_URL, {}, format="json")
    assert response.status_code == 422
    assert "non_field_errors" in response.json()["error"]["details"]


def test_put_invalid_urls_and_paths_answer_422_per_field(admin_client, isolated_paths):
    (isolated_paths / "a-file").write_text("x")
    response = admin_client.put(
        CONFIG_URL,
        {
            "data_source_url": "mysql://u:p@127.0.0.1/db",
            "llm_base_url": "ftp://127.0.0.1/models",
            "backup_path": "/etc/majed-vanna-backups",
            "log_path": str(isolated_paths / "a-file" / "logs"),
        },
        format="json",
    )
    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert set(details) == {"data_source_url", "llm_base_url", "backup_path", "log_path"}
    assert "allowed roots" in details["backup_path"][0]
    assert "not a directory" in details["log_path"][0]
    assert "scheme" in details["data_source_url"][0]

    for bad_url in ["postgres://u@:99999/db", "postgres:///nohost", "sqlite://", "postgres://u@127.0.0.1/"]:
        response = admin_client.put(CONFIG_URL, {"data_source_url": bad_url}, format="json")
        assert response.status_code == 422, bad_url
        assert list(response.json()["error"]["details"]) == ["data_source_url"]
    assert not RuntimeConfiguration.objects.exists()


def test_put_valid_paths_are_created_inside_the_allowed_root(
    admin_client, isolated_paths, settings, django_capture_on_commit_callbacks
):
    settings.DATA_DIR = isolated_paths  # relative paths are taken relative to MV_DATA_DIR
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.put(
            CONFIG_URL, {"backup_path": str(isolated_paths / "b" / "c"), "log_path": "relative-logs"}, format="json"
        )
    assert response.status_code == 200, response.json()
    data = response.json()["data"]["updated_config"]
    assert data["backup_path"] == str(isolated_paths / "b" / "c")
    assert data["log_path"] == str(isolated_paths / "relative-logs")
    assert (isolated_paths / "b" / "c").is_dir() and (isolated_paths / "relative-logs").is_dir()


def test_blank_value_returns_to_the_environment_default(admin_client, settings):
    admin_client.put(CONFIG_URL, {"llm_provider": "anthropic", "llm_model": "claude-x"}, format="json")
    response = admin_client.put(CONFIG_URL, {"llm_provider": "", "llm_model": None}, format="json")
    assert response.status_code == 200
    data = response.json()["data"]["updated_config"]
    assert data["llm_provider"] == settings.LLM_PROVIDER == "none"
    assert data["llm_model"] == ""


def test_default_rate_follows_rate_limit_settings(admin_client):
    """Backups list declares no rate: it gets the runtime default, and a change applies at once."""
    response = admin_client.get("/api/v1/backups")
    assert response["X-RateLimit-Limit"] == "1000"
    admin_client.put(CONFIG_URL, {"rate_limit_max_requests": 3, "rate_limit_window": 60}, format="json")
    statuses = [admin_client.get("/api/v1/backups").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = admin_client.get("/api/v1/backups")
    assert response["X-RateLimit-Limit"] == "3"
    assert int(response["Retry-After"]) <= 60
