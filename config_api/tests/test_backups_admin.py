"""Backups in the Django admin: start one, download it, restore it behind a confirmation page; states shown."""

import hashlib

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AuditLog
from accounts.permissions import ROLE_PERMISSIONS, Role
from accounts.tests.factories import UserFactory
from config_api.backups.services import backup_request
from config_api.models import Backup, BackupStatus

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:config_api_backup_changelist")
CREATE = reverse("admin:config_api_backup_create")


def staff_client(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def download_url(backup) -> str:
    return reverse("admin:config_api_backup_download", args=[backup.pk])


def restore_url(backup) -> str:
    return reverse("admin:config_api_backup_restore", args=[backup.pk])


@pytest.fixture
def finished_backup(admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        backup = backup_request(actor=admin)
    backup.refresh_from_db()
    assert backup.status == BackupStatus.SUCCEEDED, backup.error
    return backup


def test_changelist_offers_a_post_form_to_start_a_backup(admin):
    page = staff_client(admin).get(CHANGELIST).content.decode()
    assert f'<form method="post" action="{CREATE}"' in page and "csrfmiddlewaretoken" in page


def test_create_queues_the_backup_task_and_is_audited(admin, django_capture_on_commit_callbacks):
    client = staff_client(admin)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(CREATE)
    assert response.status_code == 302 and response["Location"] == CHANGELIST
    assert len(callbacks) == 1  # backup_create_task queued after commit, as from the API
    backup = Backup.objects.get()
    assert backup.status == BackupStatus.SUCCEEDED and backup.created_by_name == admin.username
    audit = AuditLog.objects.get(action="backup.create")
    assert audit.user_id == str(admin.pk) and audit.resource_id == str(backup.pk)
    assert "Backup started" in client.get(CHANGELIST).content.decode()


def test_create_is_post_only(admin):
    assert staff_client(admin).get(CREATE).status_code == 405
    assert not Backup.objects.exists()


def test_create_needs_the_csrf_token(admin):
    response = staff_client(admin, enforce_csrf_checks=True).post(CREATE)
    assert response.status_code == 403
    assert not Backup.objects.exists()


def test_download_streams_the_archive(admin, finished_backup):
    response = staff_client(admin).get(download_url(finished_backup))
    assert response.status_code == 200 and response.streaming
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == finished_backup.sha256
    disposition = response["Content-Disposition"]
    assert "attachment" in disposition and finished_backup.file_name in disposition
    assert response["Content-Type"] == "application/zip"


def test_download_of_a_backup_without_a_file_is_404(admin):
    failed = Backup.objects.create(status=BackupStatus.FAILED, error="disk full")
    assert staff_client(admin).get(download_url(failed)).status_code == 404


def test_restore_asks_for_confirmation_first(admin, finished_backup):
    client = staff_client(admin)
    response = client.get(restore_url(finished_backup))
    assert response.status_code == 200
    page = response.content.decode()
    assert f'<form method="post" action="{restore_url(finished_backup)}"' in page
    assert "csrfmiddlewaretoken" in page and "replaces" in page and finished_backup.sha256 in page
    finished_backup.refresh_from_db()
    assert finished_backup.restore_status == ""  # a GET changes nothing
    assert not AuditLog.objects.filter(action="backup.restore").exists()


def test_confirmed_restore_runs_the_restore_service_and_is_audited(
    admin, finished_backup, django_capture_on_commit_callbacks
):
    client = staff_client(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(restore_url(finished_backup))
    assert response.status_code == 302 and response["Location"] == CHANGELIST
    finished_backup.refresh_from_db()
    assert finished_backup.restore_status == BackupStatus.SUCCEEDED, finished_backup.restore_error
    audit = AuditLog.objects.get(action="backup.restore")
    assert audit.success and audit.user_id == str(admin.pk) and audit.resource_id == str(finished_backup.pk)
    assert "Restore started" in client.get(CHANGELIST).content.decode()


def test_restore_needs_the_csrf_token(admin, finished_backup):
    response = staff_client(admin, enforce_csrf_checks=True).post(restore_url(finished_backup))
    assert response.status_code == 403
    finished_backup.refresh_from_db()
    assert finished_backup.restore_status == ""


def test_restore_of_an_unfinished_backup_says_why(admin):
    running = Backup.objects.create(status=BackupStatus.RUNNING)
    client = staff_client(admin)
    response = client.post(restore_url(running), follow=True)
    assert response.status_code == 200
    assert "Only a finished, successful backup can be restored." in response.content.decode()
    running.refresh_from_db()
    assert running.restore_status == ""


def test_unknown_backup_pages_are_404(admin):
    client = staff_client(admin)
    for url in (
        reverse("admin:config_api_backup_download", args=["6f1c2a56-6a39-4a7f-9a59-1b1f0d1f0c11"]),
        reverse("admin:config_api_backup_restore", args=["6f1c2a56-6a39-4a7f-9a59-1b1f0d1f0c11"]),
    ):
        assert client.get(url).status_code == 404


def test_failed_and_pending_states_are_visible(admin):
    long_error = "OperationalError: could not write the archive to the backup directory " * 3
    Backup.objects.create(status=BackupStatus.FAILED, error=long_error)
    Backup.objects.create(status=BackupStatus.PENDING)
    Backup.objects.create(status=BackupStatus.SUCCEEDED, restore_status=BackupStatus.FAILED, restore_error="bad sum")
    page = staff_client(admin).get(CHANGELIST).content.decode()
    assert "Failed" in page and "Pending" in page and "bad sum" in page
    assert f'title="{long_error}"' in page and f">{long_error}<" not in page


@pytest.mark.parametrize("role", [Role.SUPERUSER, Role.NORMAL])
def test_non_admins_are_refused(role, finished_backup):
    client = staff_client(UserFactory(role=role))
    for method, url in (
        ("get", CHANGELIST),
        ("post", CREATE),
        ("get", download_url(finished_backup)),
        ("get", restore_url(finished_backup)),
        ("post", restore_url(finished_backup)),
    ):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and reverse("admin:login") in response["Location"], url
    assert Backup.objects.count() == 1
    finished_backup.refresh_from_db()
    assert finished_backup.restore_status == ""


def test_staff_without_backup_restore_are_refused_and_audited(admin, finished_backup, monkeypatch):
    monkeypatch.setitem(ROLE_PERMISSIONS, Role.ADMIN, ROLE_PERMISSIONS[Role.ADMIN] - {"backup_restore"})
    client = staff_client(admin)
    assert client.get(download_url(finished_backup)).status_code == 403
    assert client.post(CREATE).status_code == 403
    assert client.post(restore_url(finished_backup)).status_code == 403
    denied = AuditLog.objects.filter(action="permission.denied", details__permission="backup_restore")
    assert denied.count() == 3 and {row.user_id for row in denied} == {str(admin.pk)}
    assert Backup.objects.count() == 1
