"""Shapes of ``agent/feedback`` and its review actions: one input serializer per operation, outputs separate.
Shape only: ownership, the gate and the review rules are ``agent.services.feedback``'s."""

from rest_framework import serializers

from ..models import Feedback, FeedbackStatus, Rating
from ..models.feedback import COMMENT_MAX
from .conversation_serializers import ConversationOwnerSerializer

SQL_MAX = 20_000
QUESTION_MAX = 4_000


class _StrictInput(serializers.Serializer):
    """Unknown fields are refused (422), not silently dropped."""

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields)) if isinstance(self.initial_data, dict) else []
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return attrs


class FeedbackCreateInputSerializer(_StrictInput):
    message_id = serializers.UUIDField(help_text="The answer (an assistant message of one of your conversations)")
    rating = serializers.ChoiceField(choices=Rating.choices, help_text="up or down")
    comment = serializers.CharField(max_length=COMMENT_MAX, required=False, allow_blank=True, default="")
    corrected_sql = serializers.CharField(
        max_length=SQL_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text="The SQL that answers the question correctly; it must pass the read-only gate on the answer's "
        "data source (else 422 with the rule that refused it)",
    )


class FeedbackApproveInputSerializer(_StrictInput):
    question = serializers.CharField(
        max_length=QUESTION_MAX, required=False, help_text="An edited question (default: the user's question)"
    )
    sql = serializers.CharField(
        max_length=SQL_MAX, required=False, help_text="An edited SQL (default: the feedback's SQL); gate-checked"
    )
    note = serializers.CharField(max_length=COMMENT_MAX, required=False, allow_blank=True, default="")


class FeedbackRejectInputSerializer(_StrictInput):
    note = serializers.CharField(
        max_length=COMMENT_MAX, required=False, allow_blank=True, default="", help_text="Why (for the record)"
    )


class FeedbackMemorySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    scope = serializers.CharField()
    status = serializers.CharField()
    question = serializers.CharField()
    sql = serializers.CharField()


class FeedbackDataSourceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class FeedbackOutputSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=FeedbackStatus.choices)
    author = serializers.SerializerMethodField()
    memory = serializers.SerializerMethodField()
    data_source = serializers.SerializerMethodField()
    message_id = serializers.UUIDField(allow_null=True, read_only=True, help_text="Empty once the chat is deleted")
    sql = serializers.CharField(help_text="The SQL the memory holds: the correction, else a thumbs up's answer SQL")

    class Meta:
        model = Feedback
        fields = (
            "id",
            "status",
            "rating",
            "comment",
            "question",
            "answer_sql",
            "corrected_sql",
            "sql",
            "message_id",
            "conversation_id",
            "data_source",
            "memory",
            "author",
            "reviewed_by_name",
            "reviewed_at",
            "review_note",
            "created_at",
            "updated_at",
        )

    def get_author(self, obj) -> ConversationOwnerSerializer:
        if obj.author_client_id:
            return {"type": "integration", "id": obj.author_client_id, "name": obj.author_name}
        return {"type": "user", "id": str(obj.author_id or ""), "name": obj.author_name}

    def get_memory(self, obj) -> FeedbackMemorySerializer(allow_null=True):
        memory = obj.memory
        if memory is None:
            return None
        return {
            "id": str(memory.pk),
            "scope": memory.scope,
            "status": memory.status,
            "question": memory.question,
            "sql": memory.sql,
        }

    def get_data_source(self, obj) -> FeedbackDataSourceSerializer(allow_null=True):
        source = obj.data_source
        return None if source is None else {"id": str(source.pk), "name": source.name}
