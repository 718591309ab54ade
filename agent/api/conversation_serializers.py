"""Shapes of ``agent/conversations`` (outputs only: the store is written by chat runs, never by a body)."""

from rest_framework import serializers

from ..models import Conversation, Message
from ..selectors import conversation_owner


class ConversationOwnerSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["user", "integration"])
    id = serializers.CharField(help_text="User id, or the integration client's client id")
    name = serializers.CharField(help_text="Username, or the client's name")


class ConversationOutputSerializer(serializers.ModelSerializer):
    owner = serializers.SerializerMethodField()
    data_source_id = serializers.UUIDField(allow_null=True, read_only=True)

    class Meta:
        model = Conversation
        fields = ("id", "title", "owner", "data_source_id", "message_count", "created_at", "updated_at")

    def get_owner(self, obj) -> ConversationOwnerSerializer:
        return conversation_owner(obj)


class MessageOutputSerializer(serializers.ModelSerializer):
    events = serializers.JSONField(help_text="The run's events as they were streamed (text, sql, table, ...)")
    lineage = serializers.JSONField(allow_null=True, help_text="Assistant messages: what the answer rests on")
    usage = serializers.JSONField(allow_null=True, help_text="Tokens in and out, when the provider reported them")

    class Meta:
        model = Message
        fields = ("id", "conversation_id", "role", "content", "events", "lineage", "usage", "created_at")
