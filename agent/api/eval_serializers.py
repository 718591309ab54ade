"""Shapes of ``agent/evals`` (issue 17; contract §5 "Knowledge" → Evaluation)."""

from rest_framework import serializers

from ..models import EvalCase, EvalResult, EvalRun, EvalSet
from ..services.evals import MAX_IMPORT_CASES

MAX_QUESTION = 4_000
MAX_SQL = 20_000


class EvalSetOutputSerializer(serializers.ModelSerializer):
    data_source_id = serializers.UUIDField(read_only=True)
    data_source_name = serializers.CharField(source="data_source.name", read_only=True)
    case_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = EvalSet
        fields = [
            "id",
            "name",
            "description",
            "data_source_id",
            "data_source_name",
            "case_count",
            "created_by",
            "created_at",
            "updated_at",
        ]


class EvalSetCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=5_000)
    data_source = serializers.CharField(max_length=100, help_text="Data source id or name")


class EvalSetUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5_000)


class EvalCaseInputSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=MAX_QUESTION)
    reference_sql = serializers.CharField(max_length=MAX_SQL, help_text="Checked by the read-only gate")
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5_000)


class EvalCaseUpdateInputSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=MAX_QUESTION, required=False)
    reference_sql = serializers.CharField(max_length=MAX_SQL, required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5_000)


class EvalCaseOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = EvalCase
        fields = ["id", "question", "reference_sql", "notes", "position", "created_at", "updated_at"]


class EvalImportInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=5_000)
    data_source = serializers.CharField(max_length=100, help_text="Data source id or name")
    cases = EvalCaseInputSerializer(many=True, allow_empty=False, max_length=MAX_IMPORT_CASES)


class EvalExportOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    data_source = serializers.CharField(help_text="The data source's name")
    cases = EvalCaseInputSerializer(many=True)


class EvalResultOutputSerializer(serializers.ModelSerializer):
    case_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = EvalResult
        fields = [
            "case_id",
            "question",
            "matched",
            "reason",
            "sql",
            "error",
            "confidence",
            "retries",
            "latency_ms",
            "timings",
            "usage",
        ]


class EvalRunOutputSerializer(serializers.ModelSerializer):
    eval_set_id = serializers.UUIDField(read_only=True)
    progress = serializers.SerializerMethodField()
    results = serializers.SerializerMethodField()

    class Meta:
        model = EvalRun
        fields = [
            "id",
            "eval_set_id",
            "status",
            "progress",
            "mode",
            "provider",
            "model",
            "is_baseline",
            "summary",
            "diff",
            "error",
            "started_by_name",
            "created_at",
            "started_at",
            "finished_at",
            "results",
        ]

    def get_progress(self, run: EvalRun) -> dict:
        return {"done": run.done, "total": run.total}

    def get_results(self, run: EvalRun) -> list[dict]:
        if not self.context.get("with_results"):
            return []
        return EvalResultOutputSerializer(run.results.all(), many=True).data


class EvalRunStartOutputSerializer(serializers.Serializer):
    run_id = serializers.UUIDField()
    status = serializers.CharField()
