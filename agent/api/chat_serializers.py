"""Shapes of the chat endpoints (contract §5 "Agent" → Chat) for validation and the OpenAPI schema."""

from rest_framework import serializers

from agent.services.chat import MAX_MESSAGE_CHARS


class ChatInputSerializer(serializers.Serializer):
    message = serializers.CharField(
        max_length=MAX_MESSAGE_CHARS,
        trim_whitespace=False,
        help_text="The question (1..4,000 characters), or one SELECT statement",
    )
    conversation_id = serializers.UUIDField(
        required=False, allow_null=True, help_text="Continue one of your conversations (omit: a new one)"
    )
    data_source = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=100,
        help_text="Data source id or name (omit: the conversation's, else the default one you may use)",
    )
    context = serializers.DictField(
        required=False,
        allow_null=True,
        help_text="Free-form client context, stored with nothing and ignored by the agent",
    )

    def validate_message(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("This field may not be blank.")
        return value


class ChatErrorSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="SQL_REFUSED, SQL_TIMEOUT, SQL_ERROR, LLM_UNAVAILABLE, LLM_NOT_CONFIGURED, AGENT_GAVE_UP, CANCELLED"
    )
    message = serializers.CharField()
    details = serializers.JSONField(required=False, help_text="SQL_REFUSED: {rule}")


class ChatEventSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["text", "sql", "table", "chart", "tool_start", "tool_end", "error", "done"])
    content = serializers.CharField(required=False, help_text="text: a delta of the answer")
    sql = serializers.CharField(required=False, help_text="sql: the statement about to run")
    columns = serializers.ListField(child=serializers.CharField(), required=False)
    rows = serializers.ListField(child=serializers.ListField(), required=False)
    row_count = serializers.IntegerField(required=False)
    truncated = serializers.BooleanField(required=False)
    spec = serializers.DictField(required=False, help_text="chart: a Vega-Lite spec (declarative, never code)")
    tool = serializers.CharField(required=False)
    args = serializers.DictField(required=False)
    ok = serializers.BooleanField(required=False)
    duration_ms = serializers.FloatField(required=False)
    error = ChatErrorSerializer(required=False)


class ConfidenceSerializer(serializers.Serializer):
    tier = serializers.ChoiceField(choices=["high", "medium", "low"])
    reasons = serializers.ListField(child=serializers.CharField())


class TimingsSerializer(serializers.Serializer):
    llm = serializers.FloatField()
    sql = serializers.FloatField()
    total = serializers.FloatField()


class LineageSerializer(serializers.Serializer):
    sql = serializers.CharField(allow_null=True)
    tables = serializers.ListField(child=serializers.CharField())
    data_source = serializers.DictField(allow_null=True)
    memories = serializers.ListField(child=serializers.CharField())
    semantic = serializers.ListField(child=serializers.CharField())
    row_count = serializers.IntegerField(allow_null=True)
    truncated = serializers.BooleanField()
    retries = serializers.IntegerField(help_text="SQL corrections the model needed")
    timings_ms = TimingsSerializer()
    provider = serializers.CharField(allow_null=True)
    model = serializers.CharField(allow_null=True)
    usage = serializers.DictField(help_text="input_tokens, output_tokens, total_tokens as the provider reported them")
    confidence = ConfidenceSerializer()


class ChatPollOutputSerializer(serializers.Serializer):
    response = serializers.CharField(help_text="The answer's text")
    conversation_id = serializers.UUIDField()
    message_id = serializers.UUIDField()
    tools_used = serializers.ListField(child=serializers.CharField())
    execution_time_ms = serializers.FloatField()
    events = ChatEventSerializer(many=True, help_text="The events the SSE stream would have sent, without done")
    lineage = LineageSerializer()
    metadata = serializers.DictField(help_text="usage, error (the run's error, if any), mode (llm | offline)")


class ToolOutputSerializer(serializers.Serializer):
    tool_id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField()
    permissions_required = serializers.ListField(child=serializers.CharField())
    parameters = serializers.DictField(help_text="JSON Schema of the arguments")


class ToolListOutputSerializer(serializers.Serializer):
    tools = ToolOutputSerializer(many=True)
