"""Shapes of the semantic-layer endpoints: one input serializer per operation, outputs separate. Shape only:
the rules (tables that exist, metric SQL the gate accepts, unique names) are ``agent.services.semantic``'s."""

from rest_framework import serializers

from ..knowledge.semantic import KINDS, metric_sql
from ..models import SemanticColumn, SemanticMetric, SemanticRelationship, SemanticTable, SemanticTerm
from ..models.semantic import MAX_NAME_CHARS
from ..models.sources import SOURCE_ROLES

MAX_TEXT_CHARS = 4_000
MAX_SQL_CHARS = 2_000
SOURCE_HELP = "Data source id (one you may use)"


class _Strict(serializers.Serializer):
    """Fields not in the serializer are refused (422 naming them), not silently dropped."""

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields)) if isinstance(self.initial_data, dict) else []
        if unknown:
            raise serializers.ValidationError({name: ["This field cannot be set."] for name in unknown})
        return attrs


class _Partial(_Strict):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


def _synonyms():
    return serializers.ListField(
        child=serializers.CharField(max_length=100),
        max_length=50,
        required=False,
        help_text="Other words people use for it (at most 50)",
    )


def _description(help_text: str = "What it means, in plain words"):
    return serializers.CharField(max_length=MAX_TEXT_CHARS, allow_blank=True, required=False, help_text=help_text)


class SemanticTableUpdateInputSerializer(_Partial):
    description = _description()
    synonyms = _synonyms()
    visible_to = serializers.ListField(
        child=serializers.ChoiceField(choices=SOURCE_ROLES),
        max_length=len(SOURCE_ROLES),
        required=False,
        help_text="Roles that may see the table: admin, superuser, normal, integration",
    )


class SemanticColumnUpdateInputSerializer(_Partial):
    description = _description()
    synonyms = _synonyms()


class _MetricFields(_Strict):
    data_source = serializers.UUIDField(help_text=SOURCE_HELP)
    name = serializers.CharField(max_length=MAX_NAME_CHARS)
    description = _description()
    synonyms = _synonyms()
    expression = serializers.CharField(
        max_length=MAX_SQL_CHARS, help_text="One SQL expression over the base table, e.g. SUM(total)"
    )
    table = serializers.CharField(max_length=MAX_NAME_CHARS, help_text="The base table (a table of the layer)")
    filters = serializers.ListField(
        child=serializers.CharField(max_length=MAX_SQL_CHARS),
        max_length=20,
        required=False,
        help_text="SQL conditions always applied (joined with AND), e.g. status <> 'cancelled'",
    )


class SemanticMetricCreateInputSerializer(_MetricFields):
    pass


class SemanticMetricUpdateInputSerializer(_MetricFields):
    data_source = None  # a metric stays in its data source

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


class SemanticTermCreateInputSerializer(_Strict):
    data_source = serializers.UUIDField(help_text=SOURCE_HELP)
    term = serializers.CharField(max_length=MAX_NAME_CHARS)
    definition = serializers.CharField(max_length=MAX_TEXT_CHARS)
    synonyms = _synonyms()


class SemanticTermUpdateInputSerializer(_Partial):
    term = serializers.CharField(max_length=MAX_NAME_CHARS)
    definition = serializers.CharField(max_length=MAX_TEXT_CHARS)
    synonyms = _synonyms()


def _columns(help_text: str):
    return serializers.ListField(
        child=serializers.CharField(max_length=MAX_NAME_CHARS), min_length=1, max_length=16, help_text=help_text
    )


class SemanticRelationshipCreateInputSerializer(_Strict):
    data_source = serializers.UUIDField(help_text=SOURCE_HELP)
    from_table = serializers.CharField(max_length=MAX_NAME_CHARS)
    from_columns = _columns("Join columns of from_table")
    to_table = serializers.CharField(max_length=MAX_NAME_CHARS)
    to_columns = _columns("The matching columns of to_table, in the same order")
    description = _description()


class SemanticRelationshipUpdateInputSerializer(_Partial):
    description = _description()


# --- outputs

_TRACKED = ("described_by", "state", "state_detail", "synced_at", "created_at", "updated_at")


class SemanticTableOutputSerializer(serializers.ModelSerializer):
    synonyms = serializers.ListField(child=serializers.CharField())
    visible_to = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = SemanticTable
        fields = (
            "id",
            "data_source",
            "name",
            "kind",
            "description",
            "synonyms",
            "visible_to",
            "row_estimate",
            *_TRACKED,
        )


class SemanticColumnOutputSerializer(serializers.ModelSerializer):
    table = serializers.CharField(source="table.name", help_text="The table's name")
    table_id = serializers.UUIDField()
    type = serializers.CharField(source="data_type", help_text="As the data source declares it")
    synonyms = serializers.ListField(child=serializers.CharField())
    sample_values = serializers.ListField(
        child=serializers.JSONField(),
        help_text="The column's distinct values, most frequent first, when it has few (recorded by the scan)",
    )

    class Meta:
        model = SemanticColumn
        fields = (
            "id",
            "data_source",
            "table",
            "table_id",
            "name",
            "type",
            "nullable",
            "primary_key",
            "description",
            "synonyms",
            "sample_values",
            *_TRACKED,
        )


class SemanticMetricOutputSerializer(serializers.ModelSerializer):
    synonyms = serializers.ListField(child=serializers.CharField())
    filters = serializers.ListField(child=serializers.CharField())
    sql = serializers.SerializerMethodField(help_text="The statement the metric stands for")

    class Meta:
        model = SemanticMetric
        fields = (
            "id",
            "data_source",
            "name",
            "description",
            "synonyms",
            "expression",
            "table",
            "filters",
            "sql",
            "flagged",
            "created_at",
            "updated_at",
        )

    def get_sql(self, obj) -> str:
        return metric_sql(obj, obj.data_source.engine)


class SemanticTermOutputSerializer(serializers.ModelSerializer):
    synonyms = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = SemanticTerm
        fields = ("id", "data_source", "term", "definition", "synonyms", "created_at", "updated_at")


class SemanticRelationshipOutputSerializer(serializers.ModelSerializer):
    from_columns = serializers.ListField(child=serializers.CharField())
    to_columns = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = SemanticRelationship
        fields = (
            "id",
            "data_source",
            "from_table",
            "from_columns",
            "to_table",
            "to_columns",
            "key",
            "description",
            "origin",
            *_TRACKED,
        )


# --- search and sync


class SemanticSearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="What to look for (words of a question); without it the list is empty",
    )
    data_source = serializers.UUIDField(required=False, help_text="Only this data source's entries")
    kind = serializers.ChoiceField(choices=KINDS, required=False, help_text="Only entries of this kind")


class SemanticSearchResultSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KINDS)
    id = serializers.UUIDField()
    data_source = serializers.UUIDField()
    name = serializers.CharField()
    table = serializers.CharField(allow_null=True, help_text="The table of a column or the base table of a metric")
    description = serializers.CharField(help_text="Its description (a term's definition)")
    synonyms = serializers.ListField(child=serializers.CharField())
    score = serializers.FloatField(help_text="BM25 relevance; higher is closer")


class SemanticSyncInputSerializer(_Strict):
    data_source = serializers.UUIDField(required=False, help_text="The data source to scan (default: the default one)")


class SemanticDriftChangesSerializer(serializers.Serializer):
    added = serializers.ListField(child=serializers.CharField())
    removed = serializers.ListField(child=serializers.CharField())
    changed = serializers.ListField(child=serializers.DictField(), help_text="{name, changes: [...]}")


class SemanticSyncOutputSerializer(serializers.Serializer):
    data_source = serializers.DictField(help_text="id, name")
    synced_at = serializers.DateTimeField()
    first_sync = serializers.BooleanField()
    tables = SemanticDriftChangesSerializer()
    columns = SemanticDriftChangesSerializer(
        help_text="Columns of tables that were there before (a new table's are not listed)"
    )
    relationships = serializers.DictField(help_text="added, removed: relationship keys")
    sample_values = serializers.DictField(help_text="recorded: columns with values; skipped: [{column, reason}]")
    flagged = serializers.DictField(help_text="metrics: [{id, name, reason}], memories: [{id, question, reason}]")
    unflagged = serializers.DictField(help_text="metrics, memories: ids whose drift flag was cleared")
    kept_descriptions = serializers.ListField(
        child=serializers.CharField(), help_text="Removed entries whose human-written description is kept"
    )
