"""Shapes of the data-source endpoints: one input serializer per operation, outputs separate. Shape only:
the rules (URL scheme and engine, sqlite roots, the default source) are ``agent.services``'s."""

from rest_framework import serializers

from ..models import DataSource, Engine
from ..models.sources import (
    RESULT_BYTES_RANGE,
    ROW_CAP_RANGE,
    SOURCE_ROLES,
    TIMEOUT_MS_RANGE,
)
from ..selectors import data_source_masked_url
from ..services.sources import UPDATABLE_FIELDS


class _DataSourceFieldsMixin(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    engine = serializers.ChoiceField(
        choices=Engine.choices, required=False, help_text="sqlite or postgresql; default: from the URL's scheme"
    )
    url = serializers.CharField(
        max_length=1000,
        help_text="sqlite:////absolute/path.db (a file inside MV_ALLOWED_PATH_ROOTS) or "
        "postgresql://user:password@host:5432/db. Stored encrypted, shown masked; a URL read back with its "
        "password masked (********) keeps the stored password.",
    )
    is_default = serializers.BooleanField(
        required=False,
        help_text="Make this the default source (the previous default stops being one, and the runtime "
        "configuration's data_source_url becomes this URL)",
    )
    enabled = serializers.BooleanField(required=False)
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=SOURCE_ROLES),
        required=False,
        max_length=len(SOURCE_ROLES),
        help_text="Who may use it: admin, superuser, normal, integration (integration clients with use_chat). "
        "Default: all. system_admin sees every source whatever its roles.",
    )
    statement_timeout_ms = serializers.IntegerField(
        min_value=TIMEOUT_MS_RANGE[0], max_value=TIMEOUT_MS_RANGE[1], required=False
    )
    row_cap = serializers.IntegerField(min_value=ROW_CAP_RANGE[0], max_value=ROW_CAP_RANGE[1], required=False)
    max_result_bytes = serializers.IntegerField(
        min_value=RESULT_BYTES_RANGE[0], max_value=RESULT_BYTES_RANGE[1], required=False
    )
    allow_system_catalogs = serializers.BooleanField(
        required=False, help_text="Let the agent read pg_catalog / information_schema / sqlite_master (default no)"
    )

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields)) if isinstance(self.initial_data, dict) else []
        if unknown:
            raise serializers.ValidationError({name: ["This field cannot be set."] for name in unknown})
        return attrs


class DataSourceCreateInputSerializer(_DataSourceFieldsMixin):
    """A new data source. Defaults: ``enabled`` true, ``roles`` all, ``statement_timeout_ms`` 5000,
    ``row_cap`` 1000, ``max_result_bytes`` 5 MB, ``allow_system_catalogs`` false."""


class DataSourceReplaceInputSerializer(_DataSourceFieldsMixin):
    """``PUT``: ``name`` and ``url`` are required (send the masked URL back to keep it); omitted optional
    fields keep their values."""


class DataSourceUpdateInputSerializer(_DataSourceFieldsMixin):
    """``PATCH``: any subset of the fields."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


class DataSourceOutputSerializer(serializers.ModelSerializer):
    """A data source as ``system_admin`` sees it: the URL masked, never its password."""

    url = serializers.SerializerMethodField(help_text="Any password replaced by ********")
    roles = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = DataSource
        fields = ("id", *UPDATABLE_FIELDS, "schema_fetched_at", "created_at", "updated_at")

    def get_url(self, obj) -> str:
        return data_source_masked_url(obj)


class DataSourceSummaryOutputSerializer(serializers.ModelSerializer):
    """A data source as a caller with ``use_chat`` (not ``system_admin``) sees it: no connection details."""

    class Meta:
        model = DataSource
        fields = ("id", "name", "engine", "is_default")


class DataSourceSchemaQuerySerializer(serializers.Serializer):
    refresh = serializers.BooleanField(
        required=False, default=False, help_text="true: read the schema from the data source again"
    )


class DataSourceSchemaOutputSerializer(serializers.Serializer):
    data_source = serializers.DictField(help_text="id, name, engine")
    fetched_at = serializers.DateTimeField(help_text="When the schema was read from the data source")
    cached = serializers.BooleanField(help_text="true: served from the stored copy, not read just now")
    schema = serializers.JSONField(
        help_text="Tables and views with their columns, types, primary and foreign keys and row estimates"
    )
