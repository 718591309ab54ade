"""Shapes of ``agent/memory``: one input serializer per operation, outputs separate. Shape only: the kinds' rules,
the gate, privacy and duplicates are ``agent.services.memory``'s."""

from rest_framework import serializers

from ..models import Memory, MemoryKind, MemoryScope, MemoryStatus
from .feedback_serializers import QUESTION_MAX, SQL_MAX, _StrictInput

CONTENT_MAX = 100_000
TAG_MAX, TAGS_MAX = 50, 30
SEARCH_LIMIT_MAX = 50
IMPORT_MAX = 5_000


class MemoryInputSerializer(_StrictInput):
    """``POST`` and ``PUT``: the whole memory (fields left out take their defaults)."""

    kind = serializers.ChoiceField(choices=MemoryKind.choices, help_text="question_sql, text or ddl")
    question = serializers.CharField(
        max_length=QUESTION_MAX, required=False, allow_blank=True, default="", help_text="question_sql: the question"
    )
    sql = serializers.CharField(
        max_length=SQL_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text="question_sql: the SQL that answers it; must pass the read-only gate (else 422 naming the rule)",
    )
    content = serializers.CharField(
        max_length=CONTENT_MAX, required=False, allow_blank=True, default="", help_text="text and ddl: the note"
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=TAG_MAX), max_length=TAGS_MAX, required=False, default=list
    )
    data_source = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="A data source you may use; empty: every source"
    )
    scope = serializers.ChoiceField(
        choices=MemoryScope.choices, required=False, default=MemoryScope.GLOBAL, help_text="global or private (yours)"
    )
    status = serializers.ChoiceField(
        choices=MemoryStatus.choices, required=False, default=MemoryStatus.DRAFT, help_text="Default: draft"
    )


class MemoryPatchInputSerializer(MemoryInputSerializer):
    """``PATCH``: only the fields given change."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required, field.default = False, serializers.empty


class MemorySearchInputSerializer(_StrictInput):
    query = serializers.CharField(max_length=QUESTION_MAX, help_text="A question, in any words")
    limit = serializers.IntegerField(min_value=1, max_value=SEARCH_LIMIT_MAX, required=False, default=5)
    data_source = serializers.UUIDField(required=False, allow_null=True, default=None, help_text="Default: default")


class MemoryImportItemSerializer(MemoryInputSerializer):
    """One memory of an import (also nested in a list, where ``initial_data`` is the list's)."""

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)

    def validate(self, attrs):
        return attrs

    data_source = serializers.CharField(
        max_length=200, required=False, allow_null=True, allow_blank=True, default=None, help_text="Id or name"
    )


class MemoryImportInputSerializer(_StrictInput):
    memories = MemoryImportItemSerializer(many=True, max_length=IMPORT_MAX, help_text="As GET agent/memory/export")


class MemoryDataSourceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class MemoryOwnerSerializer(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.CharField()


class MemoryOutputSerializer(serializers.ModelSerializer):
    data_source = serializers.SerializerMethodField()
    owner = serializers.SerializerMethodField()

    class Meta:
        model = Memory
        fields = (
            "id",
            "kind",
            "question",
            "sql",
            "content",
            "tags",
            "data_source",
            "scope",
            "status",
            "owner",
            "flagged",
            "created_by",
            "use_count",
            "last_used_at",
            "created_at",
            "updated_at",
        )

    def get_data_source(self, obj) -> MemoryDataSourceSerializer(allow_null=True):
        source = obj.data_source
        return None if source is None else {"id": str(source.pk), "name": source.name}

    def get_owner(self, obj) -> MemoryOwnerSerializer(allow_null=True):
        if obj.owner_client_id:
            return {"type": "integration", "id": obj.owner_client_id}
        return {"type": "user", "id": str(obj.owner_id)} if obj.owner_id else None


class MemorySearchResultSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    question = serializers.CharField()
    sql = serializers.CharField()
    score = serializers.FloatField()


class MemorySearchOutputSerializer(serializers.Serializer):
    query = serializers.CharField()
    data_source = MemoryDataSourceSerializer(allow_null=True)
    results = MemorySearchResultSerializer(many=True)


class MemoryStatsOutputSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    flagged = serializers.IntegerField()
    by_kind = serializers.DictField(child=serializers.IntegerField())
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_scope = serializers.DictField(child=serializers.IntegerField())


class MemoryExportOutputSerializer(serializers.Serializer):
    memories = MemoryImportItemSerializer(many=True)


class MemoryImportOutputSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    merged = serializers.IntegerField()
