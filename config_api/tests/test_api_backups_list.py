"""GET backups: filters through ``BackupFilter`` (``status``, ``kind``; a bad value names the allowed ones), and
the page and total come from one query whatever the page's length."""

import pytest

from config_api.models import Backup, BackupKind, BackupStatus
from majed_vanna.tests.list_queries import assert_page_queries_flat, on_table

BACKUPS = "/api/v1/backups"
pytestmark = pytest.mark.django_db


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["backup_id"] for item in response.json()["data"]["backups"]]


def test_filters_by_status_and_kind(admin_client):
    failed = Backup.objects.create(status=BackupStatus.FAILED, kind=BackupKind.SCHEDULED)
    done = Backup.objects.create(status=BackupStatus.SUCCEEDED, kind=BackupKind.MANUAL)
    assert ids(admin_client.get(BACKUPS, {"status": "failed"})) == [str(failed.pk)]
    assert ids(admin_client.get(BACKUPS, {"kind": "manual"})) == [str(done.pk)]
    assert ids(admin_client.get(BACKUPS, {"status": "failed", "kind": "manual"})) == []
    assert set(ids(admin_client.get(BACKUPS))) == {str(failed.pk), str(done.pk)}


def test_a_bad_filter_is_422_naming_the_allowed_values(admin_client):
    response = admin_client.get(BACKUPS, {"status": "done", "kind": "x"})
    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert details["status"] == ["Select a valid choice. Allowed: pending, running, succeeded, failed."]
    assert details["kind"] == ["Select a valid choice. Allowed: manual, scheduled, uploaded, command."]


def test_page_queries_do_not_grow_with_the_page(admin_client, django_assert_num_queries):
    Backup.objects.bulk_create([Backup(status=BackupStatus.SUCCEEDED) for _ in range(30)])
    baseline = assert_page_queries_flat(django_assert_num_queries, admin_client, BACKUPS)
    assert len(on_table(baseline, "config_api_backup")) == 1
