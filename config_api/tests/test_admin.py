"""Django admin: the configuration page never shows a secret and saves through the audited service; the
backup catalog is read-only."""

import json

from django.test import Client

from accounts.models import AuditLog
from config_api.backups.services import backup_request
from config_api.models import Backup, ConfigurationChange, RuntimeConfiguration
from config_api.selectors import llm_api_key
from config_api.services import config_update

CHANGE_URL = "/admin/config_api/runtimeconfiguration/1/change/"


def staff_client(admin) -> Client:
    client = Client()
    client.force_login(admin)
    return client


def test_configuration_page_hides_secrets(admin):
    config_update(
        actor=admin,
        changes={"data_source_url": "postgres://u:hunter2@127.0.0.1/db", "llm_api_key": "sk-admin-secret"},
    )
    response = staff_client(admin).get(CHANGE_URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "hunter2" not in page and "sk-admin-secret" not in page
    assert "postgres://u:********@127.0.0.1/db" in page
    assert "never shown" in page


def test_saving_in_the_admin_is_validated_versioned_and_audited(admin, isolated_paths):
    config_update(actor=admin, changes={"llm_model": "m"})
    client = staff_client(admin)
    form = form_data(
        rate_limit_max_requests=77,
        rate_limit_window=60,
        llm_provider="",
        llm_model="m",
        llm_base_url="",
        backup_path="/etc",
        backup_retention_days=30,
        log_path="",
    )
    response = client.post(CHANGE_URL, form)
    assert response.status_code == 200  # the form again, with the error
    assert "allowed roots" in response.content.decode()
    assert RuntimeConfiguration.objects.get().rate_limit_max_requests == 1000

    form["backup_path"] = str(isolated_paths / "admin-backups")
    response = client.post(CHANGE_URL, form)
    assert response.status_code == 302
    config = RuntimeConfiguration.objects.get()
    assert config.rate_limit_max_requests == 77 and config.version == 3
    assert ConfigurationChange.objects.filter(version=3, changed_by_name=admin.username).exists()
    assert AuditLog.objects.filter(action="config.update", details__new__rate_limit_max_requests=77).exists()


def test_backup_catalog_is_listed_read_only(admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        backup = backup_request(actor=admin)
    client = staff_client(admin)
    listing = client.get("/admin/config_api/backup/")
    assert listing.status_code == 200
    assert "Succeeded" in listing.content.decode()
    detail = client.get(f"/admin/config_api/backup/{backup.pk}/change/")
    assert detail.status_code == 200
    assert client.post(f"/admin/config_api/backup/{backup.pk}/delete/").status_code == 403
    assert Backup.objects.filter(pk=backup.pk).exists()


def form_data(**overrides) -> dict:
    """Every editable field of the admin form as the page would post it (current effective values)."""
    config = RuntimeConfiguration.objects.get()
    data = {
        "rate_limit_max_requests": config.rate_limit_max_requests,
        "rate_limit_window": config.rate_limit_window,
        "rate_limits": json.dumps(config.rate_limits),
        "circuit_breaker_failure_threshold": config.circuit_breaker_failure_threshold,
        "circuit_breaker_timeout": config.circuit_breaker_timeout,
        "llm_provider": config.llm_provider,
        "llm_model": config.llm_model,
        "llm_base_url": config.llm_base_url,
        "backup_path": config.backup_path,
        "backup_retention_days": config.backup_retention_days,
        "log_path": config.log_path,
        "agent_sql_retries": config.agent_sql_retries,
        "agent_max_tool_iterations": config.agent_max_tool_iterations,
        "agent_daily_token_budget": config.agent_daily_token_budget,
    }
    return {**data, **overrides}


def test_page_shows_effective_values_with_defaults_and_llm_labels(admin, settings):
    settings.LLM_PROVIDER, settings.LLM_MODEL, settings.LLM_API_KEY = "openai", "gpt-env", "sk-env-key-987"
    config_update(actor=admin, changes={"circuit_breaker_timeout": 60})  # nothing changes: the row exists
    page = staff_client(admin).get(CHANGE_URL).content.decode()
    assert "Llm" not in page
    assert "LLM provider" in page and "LLM model" in page and "LLM base URL" in page
    assert "<td>openai</td><td>default (LLM_PROVIDER)</td>" in page  # the provider actually in force
    assert "<td>gpt-env</td><td>default (LLM_MODEL)</td>" in page
    assert f"<td>{settings.MV_BACKUP_DIR}</td><td>default (MV_BACKUP_DIR)</td>" in page
    assert "from LLM_API_KEY (environment)" in page and "sk-env-key-987" not in page


def test_llm_key_is_write_only_blank_keeps_it_and_clear_removes_it(admin):
    config_update(actor=admin, changes={"llm_model": "m"})
    client = staff_client(admin)
    response = client.post(CHANGE_URL, form_data(new_llm_api_key="sk-from-admin-555"))
    assert response.status_code == 302
    assert llm_api_key() == "sk-from-admin-555"
    row = AuditLog.objects.filter(action="config.update").latest("id")
    assert row.details["new"] == {"llm_api_key_status": "set"} and "sk-from-admin-555" not in json.dumps(row.details)
    page = client.get(CHANGE_URL).content.decode()
    assert "sk-from-admin-555" not in page and "stored here (encrypted)" in page

    assert client.post(CHANGE_URL, form_data()).status_code == 302  # blank: unchanged
    assert llm_api_key() == "sk-from-admin-555"

    assert client.post(CHANGE_URL, form_data(clear_llm_api_key="on")).status_code == 302
    assert RuntimeConfiguration.objects.get().llm_api_key_encrypted == ""


def test_data_source_url_is_write_only_checked_and_never_echoed(admin, isolated_paths):
    config_update(actor=admin, changes={"llm_model": "m"})
    client = staff_client(admin)
    bad = client.post(CHANGE_URL, form_data(new_data_source_url="mysql://u:pw-bad-777@h/db"))
    assert bad.status_code == 200 and "pw-bad-777" not in bad.content.decode()
    assert "The scheme must be one of" in bad.content.decode()

    url = "postgres://reader:pw-good-888@127.0.0.1:5432/shop"
    assert client.post(CHANGE_URL, form_data(new_data_source_url=url)).status_code == 302
    assert RuntimeConfiguration.objects.get().data_source_url == url
    page = client.get(CHANGE_URL).content.decode()
    assert "pw-good-888" not in page and "postgres://reader:********@127.0.0.1:5432/shop" in page
    row = AuditLog.objects.filter(action="config.update").latest("id")
    assert row.details["new"]["data_source_url"] == "postgres://reader:********@127.0.0.1:5432/shop"

    assert client.post(CHANGE_URL, form_data(clear_data_source_url="on")).status_code == 302
    assert RuntimeConfiguration.objects.get().data_source_url == ""


def test_setting_and_clearing_at_once_is_refused(admin):
    config_update(actor=admin, changes={"llm_model": "m"})
    response = staff_client(admin).post(CHANGE_URL, form_data(new_llm_api_key="sk-x", clear_llm_api_key="on"))
    assert response.status_code == 200 and "not both" in response.content.decode()
    assert RuntimeConfiguration.objects.get().llm_api_key_encrypted == ""


def test_rate_limits_are_edited_with_the_same_checks(admin):
    config_update(actor=admin, changes={"llm_model": "m"})
    client = staff_client(admin)
    refused = client.post(CHANGE_URL, form_data(rate_limits=json.dumps({"auth.login": "1/s"})))
    assert refused.status_code == 200 and "cannot be overridden" in refused.content.decode()
    assert client.post(CHANGE_URL, form_data(rate_limits='{"agent.chat": "10000/hour"}')).status_code == 302
    assert RuntimeConfiguration.objects.get().rate_limits == {"agent.chat": "10000/hour"}
