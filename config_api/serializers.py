"""Input and output shapes of the configuration and backup endpoints (shape only; rules live in services)."""

from rest_framework import serializers

from .models import Backup, LLMProvider
from .services import EDITABLE_FIELDS
from .validation import check_data_source_url, check_http_url, check_writable_dir


class ConfigUpdateInputSerializer(serializers.Serializer):
    """``PUT config``: any subset of the fields. A blank (or null) text field returns to the environment's
    default. ``llm_api_key`` is write-only: it is stored encrypted and never returned."""

    rate_limit_max_requests = serializers.IntegerField(required=False, min_value=1, max_value=100_000)
    rate_limit_window = serializers.IntegerField(required=False, min_value=1, max_value=86_400)
    circuit_breaker_failure_threshold = serializers.IntegerField(required=False, min_value=1, max_value=100)
    circuit_breaker_timeout = serializers.IntegerField(required=False, min_value=1, max_value=3600)
    llm_provider = serializers.ChoiceField(
        required=False, choices=LLMProvider.choices, allow_blank=True, allow_null=True
    )
    llm_model = serializers.CharField(required=False, max_length=200, allow_blank=True, allow_null=True)
    llm_base_url = serializers.CharField(required=False, max_length=500, allow_blank=True, allow_null=True)
    llm_api_key = serializers.CharField(
        required=False, max_length=500, allow_blank=True, allow_null=True, write_only=True
    )
    data_source_url = serializers.CharField(required=False, max_length=1000, allow_blank=True, allow_null=True)
    backup_path = serializers.CharField(required=False, max_length=1000, allow_blank=True, allow_null=True)
    backup_retention_days = serializers.IntegerField(required=False, min_value=1, max_value=3650)
    log_path = serializers.CharField(required=False, max_length=1000, allow_blank=True, allow_null=True)

    # URL and path checks run here too, so one 422 lists every bad field; the service checks again.
    @staticmethod
    def _checked(value, check):
        if not value:
            return value
        try:
            return check(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc))

    def validate_data_source_url(self, value):
        from .runtime import runtime_config_values

        current = runtime_config_values()["data_source_url"]
        return self._checked(value, lambda v: check_data_source_url(v, current=current))

    def validate_llm_base_url(self, value):
        return self._checked(value, check_http_url)

    def validate_backup_path(self, value):
        return self._checked(value, check_writable_dir)

    def validate_log_path(self, value):
        return self._checked(value, check_writable_dir)

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(EDITABLE_FIELDS)) if hasattr(self.initial_data, "keys") else []
        if unknown:
            raise serializers.ValidationError({name: ["Unknown or read-only field."] for name in unknown})
        if not attrs:
            raise serializers.ValidationError("Send at least one field to change.")
        return {key: ("" if value is None else value) for key, value in attrs.items()}


class ConfigOutputSerializer(serializers.Serializer):
    """``GET config``. Fields after ``environment`` are shown to admins (``update_config``) only."""

    database_provider = serializers.CharField(help_text="Provider of the agent's data source: sqlite|postgresql")
    llm_provider = serializers.CharField()
    llm_model = serializers.CharField()
    rate_limit_max_requests = serializers.IntegerField()
    rate_limit_window = serializers.IntegerField(help_text="Seconds")
    circuit_breaker_failure_threshold = serializers.IntegerField()
    circuit_breaker_timeout = serializers.IntegerField(help_text="Seconds")
    version = serializers.CharField(help_text="Application version")
    environment = serializers.CharField()
    data_source_url = serializers.CharField(required=False, help_text="Admins only; password masked")
    llm_base_url = serializers.CharField(required=False, help_text="Admins only")
    llm_api_key_set = serializers.BooleanField(required=False, help_text="Admins only; the key is never returned")
    backup_path = serializers.CharField(required=False, help_text="Admins only")
    backup_retention_days = serializers.IntegerField(required=False, help_text="Admins only")
    log_path = serializers.CharField(required=False, help_text="Admins only")
    config_version = serializers.IntegerField(required=False, help_text="Admins only; +1 on every change")
    updated_at = serializers.DateTimeField(required=False, allow_null=True)
    updated_by = serializers.CharField(required=False, allow_null=True)


class ConfigUpdateOutputSerializer(serializers.Serializer):
    message = serializers.CharField()
    updated_config = ConfigOutputSerializer()


class ConnectionTestOutputSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="success | failure")
    message = serializers.CharField()
    connection_time_ms = serializers.FloatField()
    details = serializers.DictField()


class BackupOutputSerializer(serializers.ModelSerializer):
    backup_id = serializers.UUIDField(source="id")
    created_by = serializers.CharField(source="created_by_name")
    restore_status = serializers.SerializerMethodField()
    file_name = serializers.SerializerMethodField()
    app_version = serializers.SerializerMethodField()
    row_counts = serializers.SerializerMethodField()

    class Meta:
        model = Backup
        fields = [
            "backup_id",
            "kind",
            "status",
            "file_name",
            "uploaded_name",
            "size_bytes",
            "sha256",
            "created_at",
            "started_at",
            "finished_at",
            "error",
            "attempts",
            "created_by",
            "app_version",
            "row_counts",
            "restore_status",
            "restore_started_at",
            "restored_at",
            "restore_error",
            "restored_tables",
        ]
        extra_kwargs = {
            "uploaded_name": {"help_text": "The uploaded archive's own file name; empty for backups made here"},
            "restored_tables": {
                "help_text": 'What the last restore did per table: {"action": "replaced", "rows": n} or, for the '
                'audit and token tables, {"action": "merged", "rows_added": n} (newer rows are kept)'
            },
        }

    def get_restore_status(self, obj) -> str | None:
        return obj.restore_status or None

    def get_file_name(self, obj) -> str | None:
        return obj.file_name if obj.file_path else None

    def get_app_version(self, obj) -> str | None:
        return (obj.manifest or {}).get("app_version")

    def get_row_counts(self, obj) -> dict[str, int]:
        return {entry["label"]: entry["rows"] for entry in (obj.manifest or {}).get("tables", [])}


class BackupCreateOutputSerializer(serializers.Serializer):
    backup_id = serializers.UUIDField()
    status = serializers.CharField(help_text="pending")


class BackupRestoreInputSerializer(serializers.Serializer):
    confirm = serializers.BooleanField(required=True, help_text="Must be true: the restore replaces application data")

    def validate_confirm(self, value):
        if value is not True:
            raise serializers.ValidationError("Set confirm to true to replace the application data with this backup.")
        return value


class BackupRestoreOutputSerializer(serializers.Serializer):
    backup_id = serializers.UUIDField()
    restore_status = serializers.CharField(help_text="pending")


class BackupUploadInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A backup archive (.zip) downloaded from this or a compatible installation")
