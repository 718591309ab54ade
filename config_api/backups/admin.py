"""Backups in the Django admin: the catalog, "Start a backup", download, and restore behind a confirmation page.

Each action calls the same service as the API (``backup_request``, ``restore_request``: Celery tasks after
commit, audited ``backup.create`` / ``backup.restore``) and needs ``backup_restore``, like the API; a refusal
is audited (``permission.denied``). State changes are POST only (CSRF-protected by the admin).
Catalog rows are never edited or deleted here (the API and ``manage.py`` delete, audited).
"""

from pathlib import Path

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from accounts.services import audit_permission_denied
from majed_vanna.admin_display import datetime_column, truncated
from majed_vanna.admin_readonly import ReadOnlyModelAdmin
from majed_vanna.api.permissions import principal_permissions
from majed_vanna.exceptions import ConflictError

from ..models import Backup, BackupStatus
from ..selectors import backup_get
from .services import backup_request, restore_request

PERMISSION = "backup_restore"


@admin.register(Backup)
class BackupAdmin(ReadOnlyModelAdmin):
    list_display = (
        datetime_column("created_at", "Created"),
        "kind",
        "status",
        "size",
        "restore_status",
        "problem",
        "links",
    )
    list_filter = ("status", "kind", "restore_status")
    readonly_fields = [field.name for field in Backup._meta.fields]
    change_list_template = "admin/config_api/backup/change_list.html"
    change_form_template = "admin/config_api/backup/change_form.html"

    @admin.display(description="Size", ordering="size_bytes")
    def size(self, obj) -> str:
        return filesizeformat(obj.size_bytes) if obj.size_bytes is not None else "-"

    @admin.display(description="Error")
    def problem(self, obj) -> str:
        return truncated(obj.error or obj.restore_error, 40)

    @admin.display(description="")
    def links(self, obj) -> str:
        if obj.status != BackupStatus.SUCCEEDED:
            return ""
        return format_html(
            '<a href="{}">Download</a> · <a href="{}">Restore…</a>',
            reverse("admin:config_api_backup_download", args=[obj.pk]),
            reverse("admin:config_api_backup_restore", args=[obj.pk]),
        )

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and PERMISSION in principal_permissions(request.user)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("create/", wrap(require_POST(self.create_view)), name="config_api_backup_create"),
            path("<uuid:backup_id>/download/", wrap(self.download_view), name="config_api_backup_download"),
            path("<uuid:backup_id>/restore/", wrap(self.restore_view), name="config_api_backup_restore"),
            *super().get_urls(),
        ]

    def _require_permission(self, request) -> None:
        if PERMISSION not in principal_permissions(request.user):
            audit_permission_denied(request=request, permission=PERMISSION)
            raise PermissionDenied

    def _backup(self, backup_id) -> Backup:
        backup = backup_get(backup_id=backup_id)
        if backup is None:
            raise Http404("Backup not found")
        return backup

    def create_view(self, request):
        self._require_permission(request)
        backup = backup_request(actor=request.user)
        self.message_user(request, f"Backup started ({backup.pk}); it is listed here as it runs.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:config_api_backup_changelist"))

    def download_view(self, request, backup_id):
        self._require_permission(request)
        backup = self._backup(backup_id)
        file = Path(backup.file_path) if backup.file_path else None
        if file is None or not file.is_file():
            raise Http404("This backup has no archive file")
        response = FileResponse(file.open("rb"), as_attachment=True, filename=backup.file_name)
        response["Content-Type"] = "application/zip"
        response["X-Backup-SHA256"] = backup.sha256
        return response

    def restore_view(self, request, backup_id):
        self._require_permission(request)
        backup = self._backup(backup_id)
        if request.method == "POST":
            try:
                restore_request(actor=request.user, backup=backup)
            except ConflictError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return HttpResponseRedirect(reverse("admin:config_api_backup_change", args=[backup.pk]))
            self.message_user(request, "Restore started; its state is shown in the list.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:config_api_backup_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Restore this backup?",
            "opts": self.model._meta,
            "backup": backup,
            "restorable": backup.status == BackupStatus.SUCCEEDED,
        }
        return TemplateResponse(request, "admin/config_api/backup/restore_confirmation.html", context)
