"""Shapes of ``agent/tools/registry`` and ``agent/tools/history`` (contract §5 "Knowledge" → tools registry)."""

from rest_framework import serializers

from ..models import ToolCall
from ..selectors import tool_call_caller
from ..tool_settings import TOOL_ROLES
from .conversation_serializers import ConversationOwnerSerializer


class ToolSettingUpdateInputSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(required=False, help_text="false: the model is never offered the tool")
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=TOOL_ROLES),
        required=False,
        max_length=len(TOOL_ROLES),
        help_text="Who may use it: admin, superuser, normal, integration. The tool's permissions apply on top.",
    )

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields)) if isinstance(self.initial_data, dict) else []
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        if not attrs:
            raise serializers.ValidationError({"enabled": ["Give enabled and/or roles."]})
        return attrs


class ToolRegistryOutputSerializer(serializers.Serializer):
    tool_id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField()
    permissions_required = serializers.ListField(child=serializers.CharField())
    parameters = serializers.DictField(help_text="JSON Schema of the arguments")
    enabled = serializers.BooleanField()
    roles = serializers.ListField(child=serializers.CharField(), help_text="Roles the tool is offered to")
    default_roles = serializers.ListField(child=serializers.CharField(), help_text="Its roles when not customised")
    customised = serializers.BooleanField(help_text="An administrator changed its settings")
    usage_count = serializers.IntegerField(help_text="Logged calls")
    error_count = serializers.IntegerField(help_text="Logged calls that failed")
    mean_duration_ms = serializers.FloatField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)
    updated_by = serializers.CharField(allow_blank=True)


class ToolCallOutputSerializer(serializers.ModelSerializer):
    caller = serializers.SerializerMethodField()
    arguments = serializers.JSONField(help_text="As the tool received them, secrets redacted")

    class Meta:
        model = ToolCall
        fields = (
            "id",
            "tool",
            "caller",
            "arguments",
            "duration_ms",
            "success",
            "error_code",
            "conversation_id",
            "created_at",
        )

    def get_caller(self, obj) -> ConversationOwnerSerializer:
        return tool_call_caller(obj)
