"""Django admin: the configuration page never shows a secret and saves through the audited service; the
backup catalog is read-only."""

from django.test import Client

from accounts.models import AuditLog
from config_api.backups.services import backup_request
from config_api.models import Backup, ConfigurationChange, RuntimeConfiguration
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
    form = {
        "rate_limit_max_requests": 77,
        "rate_limit_window": 60,
        "circuit_breaker_failure_threshold": 5,
        "circuit_breaker_timeout": 60,
        "llm_provider": "",
        "llm_model": "m",
        "llm_base_url": "",
        "backup_path": "/etc",
        "backup_retention_days": 30,
        "log_path": "",
    }
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
