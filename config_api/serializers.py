"""Input and output shapes of the configuration and backup endpoints (shape only; rules live in services)."""

from rest_framework import serializers

from majed_vanna.rates import MAX_RATE_LENGTH, RateMapError

from .fields import CHOICE, EDITABLE_FIELDS, FIELDS, INT, RATE_MAP, ConfigField
from .models import Backup
from .runtime import runtime_config_values


def _input_field(field: ConfigField) -> serializers.Field:
    common = {"required": False, "help_text": field.help_text or None, "label": field.label}
    if field.kind == INT:
        return serializers.IntegerField(min_value=field.min_value, max_value=field.max_value, **common)
    if field.kind == CHOICE:
        return serializers.ChoiceField(choices=field.choices.choices, allow_blank=True, allow_null=True, **common)
    if field.kind == RATE_MAP:
        return serializers.DictField(
            child=serializers.CharField(max_length=MAX_RATE_LENGTH), allow_empty=True, **common
        )
    return serializers.CharField(
        max_length=field.max_length, allow_blank=True, allow_null=True, write_only=field.secret, **common
    )


def _field_validator(field: ConfigField):
    """``validate_<name>``: the field's check, so one 422 lists every bad field (the service checks again)."""

    def validate(self, value):
        current = runtime_config_values().get(field.name) if field.name == "data_source_url" else None
        try:
            return field.checked(value, current=current)
        except RateMapError as exc:
            raise serializers.ValidationError({scope: [message] for scope, message in exc.errors.items()}) from exc
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc

    return validate


class _ConfigUpdateInput(serializers.Serializer):
    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(EDITABLE_FIELDS)) if hasattr(self.initial_data, "keys") else []
        if unknown:
            raise serializers.ValidationError({name: ["Unknown or read-only field."] for name in unknown})
        if not attrs:
            raise serializers.ValidationError("Send at least one field to change.")
        return {name: ("" if value is None else value) for name, value in attrs.items()}


ConfigUpdateInputSerializer = type(
    "ConfigUpdateInputSerializer",
    (_ConfigUpdateInput,),
    {
        "__doc__": """``PUT config``: any subset of the fields. A blank (or null) text field returns to the
environment's default. ``llm_api_key`` is write-only: it is stored encrypted and never returned (blank
clears it). ``rate_limits`` replaces the whole map (scope -> rate such as "10000/hour"; not auth.login).""",
        "__module__": __name__,
        **{field.name: _input_field(field) for field in FIELDS},
        **{f"validate_{field.name}": _field_validator(field) for field in FIELDS if field.check},
    },
)


def _output_field(field: ConfigField) -> serializers.Field:
    common = {"required": field.public, "help_text": field.help_text or None}
    if field.kind == INT:
        return serializers.IntegerField(**common)
    if field.kind == RATE_MAP:
        return serializers.DictField(child=serializers.CharField(), **common)
    return serializers.CharField(**common)


ConfigOutputSerializer = type(
    "ConfigOutputSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "``GET config``. Fields not marked required are shown to admins (``update_config``) only.",
        "__module__": __name__,
        "database_provider": serializers.CharField(help_text="Provider of the agent's data source: sqlite|postgresql"),
        **{field.name: _output_field(field) for field in FIELDS if field.public and not field.secret},
        "version": serializers.CharField(help_text="Application version"),
        "environment": serializers.CharField(),
        **{field.name: _output_field(field) for field in FIELDS if not field.public and not field.secret},
        "llm_api_key_set": serializers.BooleanField(
            required=False, help_text="Admins only; whether a usable key is in force (it is never returned)"
        ),
        "llm_api_key_status": serializers.ChoiceField(
            choices=["stored", "environment", "not_set", "unreadable"],
            required=False,
            help_text="Admins only; 'unreadable': a key is stored but SECRET_KEY (or a fallback) no longer "
            "decrypts it; LLM_API_KEY is not used in its place",
        ),
        "config_version": serializers.IntegerField(required=False, help_text="Admins only; +1 on every change"),
        "updated_at": serializers.DateTimeField(required=False, allow_null=True),
        "updated_by": serializers.CharField(required=False, allow_null=True),
    },
)


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
                'audit and token tables, {"action": "merged", "rows_added": n, "rows_reverted": m} (newer rows are '
                "kept; rows changed since the backup are put back as backed up and counted in rows_reverted)"
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
