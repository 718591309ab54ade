"""Configuration and backup endpoints (contract §5 "Configuration and backups")."""

from pathlib import Path

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser

from majed_vanna.api.async_views import ApiResult, async_api_view
from majed_vanna.api.filtering import filterset_parameters
from majed_vanna.api.permissions import principal_permissions
from majed_vanna.api.viewsets import BaseAPIView, BaseViewSet
from majed_vanna.exceptions import NotFoundError

from .backups.services import backup_delete, backup_request, backup_upload, restore_request
from .filters import BackupFilter
from .models import Backup
from .selectors import backup_list, backup_visible_queryset, config_public
from .serializers import (
    BackupCreateOutputSerializer,
    BackupOutputSerializer,
    BackupRestoreInputSerializer,
    BackupRestoreOutputSerializer,
    BackupUploadInputSerializer,
    ConfigOutputSerializer,
    ConfigUpdateInputSerializer,
    ConfigUpdateOutputSerializer,
    ConnectionTestOutputSerializer,
)
from .services import config_test_database, config_test_llm, config_update


class ConfigView(BaseAPIView):
    """Read (every role, clients with ``read_config``: public fields; admins see more) and change the
    runtime configuration. Changes apply in every server process within a few seconds."""

    required_permissions = {"get": "read_config", "put": "update_config"}
    throttle_scope_prefix = "config"
    throttle_scopes = {"get": "config.read", "put": "config.update"}

    @extend_schema(responses=ConfigOutputSerializer, summary="Current runtime configuration (never a secret)")
    def get(self, request):
        admin_view = "update_config" in principal_permissions(request.user)
        return self.ok(config_public(include_admin_fields=admin_view))

    @extend_schema(
        request=ConfigUpdateInputSerializer,
        responses=ConfigUpdateOutputSerializer,
        summary="Change runtime configuration (partial; 422 per invalid field)",
    )
    def put(self, request):
        changes = self.validated(ConfigUpdateInputSerializer, request.data)
        config_update(actor=request.user, changes=changes)
        message = "Configuration updated"
        return self.ok({"message": message, "updated_config": config_public(include_admin_fields=True)}, message)


@async_api_view(
    methods=["POST"],
    permission="update_config",
    throttle_scope="config.test_database",
    schema={
        "POST": {
            "request": None,
            "responses": ConnectionTestOutputSerializer,
            "summary": "Test the data source connection",
        }
    },
)
async def config_test_database_view(request):
    """Connect to the agent's data source read-only and run ``SELECT 1`` (gives up after a few seconds).
    A failed connection is ``200`` with ``status: "failure"``: the test itself worked. Async, so the wait
    holds up no other request of the server process."""
    result = await config_test_database(actor=request.user)
    return ApiResult(result, message=result["message"])


@async_api_view(
    methods=["POST"],
    permission="update_config",
    throttle_scope="config.test_llm",
    schema={"POST": {"request": None, "responses": ConnectionTestOutputSerializer, "summary": "Test the LLM provider"}},
)
async def config_test_llm_view(request):
    """Send the configured LLM provider one minimal request (5 s limit). Provider ``none`` is a failure
    ("No LLM provider configured"). Never echoes the API key or the provider's response body. Async, so
    the wait holds up no other request of the server process."""
    result = await config_test_llm(actor=request.user)
    return ApiResult(result, message=result["message"])


class BackupViewSet(BaseViewSet):
    """Backups of all application data (``backup_restore``: admins). Creating and restoring run as
    Celery tasks and answer 202; poll ``GET backups/{id}`` for ``status`` / ``restore_status``."""

    results_key = "backups"
    throttle_scope_prefix = "backups"
    required_permissions = "backup_restore"
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    queryset = Backup.objects.none()  # for the schema; objects are read through visible_queryset
    not_found_message = "Backup not found"

    def visible_queryset(self, principal):
        return backup_visible_queryset(actor=principal)

    @extend_schema(
        parameters=filterset_parameters(BackupFilter),
        responses=BackupOutputSerializer(many=True),
        summary="List backups, newest first",
    )
    def list(self, request):
        return self.paginated(backup_list(params=request.query_params), BackupOutputSerializer)

    @extend_schema(request=None, responses={202: BackupCreateOutputSerializer}, summary="Start a backup")
    def create(self, request):
        backup = backup_request(actor=request.user)
        return self.accepted({"backup_id": str(backup.pk), "status": "pending"}, "Backup started")

    @extend_schema(responses=BackupOutputSerializer, summary="A backup: status, size, checksum, timings, errors")
    def retrieve(self, request, pk=None):
        return self.ok(BackupOutputSerializer(self.get_object()).data)

    @extend_schema(responses={200: OpenApiResponse(description="Deleted; data is null")}, summary="Delete a backup")
    def destroy(self, request, pk=None):
        backup_delete(actor=request.user, backup=self.get_object())
        return self.deleted("Backup deleted")

    @extend_schema(
        responses={(200, "application/zip"): OpenApiTypes.BINARY},
        summary="Download the archive (streamed; its sha256 equals the backup's sha256)",
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        backup = self.get_object()
        path = Path(backup.file_path) if backup.file_path else None
        if path is None or not path.is_file():
            raise NotFoundError("This backup has no archive file")
        response = FileResponse(path.open("rb"), as_attachment=True, filename=backup.uploaded_name or backup.file_name)
        response["Content-Type"] = "application/zip"
        response["X-Backup-SHA256"] = backup.sha256
        return response

    @extend_schema(
        request=BackupRestoreInputSerializer,
        responses={202: BackupRestoreOutputSerializer},
        summary="Restore this backup (replaces application data; all-or-nothing)",
    )
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        backup = self.get_object()
        self.validated(BackupRestoreInputSerializer, request.data)
        restore_request(actor=request.user, backup=backup)
        return self.accepted({"backup_id": str(backup.pk), "restore_status": "pending"}, "Restore started")

    @extend_schema(
        request={"multipart/form-data": BackupUploadInputSerializer},
        responses={
            201: BackupOutputSerializer,
            200: OpenApiResponse(
                BackupOutputSerializer,
                description="This archive is already in the catalog: the existing backup, nothing stored twice",
            ),
        },
        summary="Upload an archive; verified (format, manifest, checksums, schema) before it is accepted",
    )
    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser])
    def upload(self, request):
        data = self.validated(BackupUploadInputSerializer, request.data)
        backup, created = backup_upload(actor=request.user, uploaded_file=data["file"])
        if not created:
            return self.ok(BackupOutputSerializer(backup).data, "This archive is already in the catalog")
        return self.created(BackupOutputSerializer(backup).data, "Backup uploaded")
