"""Shapes of the integration-client endpoints: one input serializer per operation, outputs separate."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import serializers

from majed_vanna.roles import INTEGRATION_PERMISSIONS

from .models import ClientStatus
from .validators import MAX_IP_RANGES, normalize_cidr, normalize_rate_limit

PERMISSION_CHOICES = sorted(INTEGRATION_PERMISSIONS)


class CidrField(serializers.CharField):
    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return normalize_cidr(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc


class RateLimitField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(
            required=False,
            allow_null=True,
            allow_blank=True,
            max_length=32,
            help_text='The client\'s own rate for every scope but auth.login, e.g. "10000/hour"; null: none',
            **kwargs,
        )

    def to_internal_value(self, data):
        try:
            return normalize_rate_limit(super().to_internal_value(data))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc


def _future(value):
    if value is not None and value <= timezone.now():
        raise serializers.ValidationError("Must be in the future.")
    return value


class _ClientFieldsMixin(serializers.Serializer):
    client_name = serializers.CharField(max_length=100, source="name")
    description = serializers.CharField(max_length=500, allow_blank=True, required=False)
    permissions = serializers.ListField(
        child=serializers.ChoiceField(choices=PERMISSION_CHOICES), allow_empty=False, max_length=10
    )
    allowed_ip_ranges = serializers.ListField(child=CidrField(max_length=64), required=False, max_length=MAX_IP_RANGES)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, validators=[_future])
    rate_limit = RateLimitField()

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields)) if isinstance(self.initial_data, dict) else []
        if unknown:
            raise serializers.ValidationError({name: ["This field cannot be set."] for name in unknown})
        return attrs


class ClientCreateInputSerializer(_ClientFieldsMixin):
    """``permissions``: a non-empty subset of use_chat, use_tools, read_config. ``allowed_ip_ranges``: CIDRs the
    client may call from (empty: anywhere). ``expires_at``: after it the credentials stop working. ``rate_limit``:
    the client's own rate for every scope but auth.login (e.g. "10000/hour"), for a backend serving many people."""


class ClientUpdateInputSerializer(_ClientFieldsMixin):
    """Partial update; ``client_id``, ``status`` and credentials cannot be changed here (use DELETE or rotate)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


class ClientOutputSerializer(serializers.Serializer):
    """A client as listed and retrieved: never its secret or key (``api_key_prefix`` is the key's public part)."""

    client_id = serializers.CharField()
    client_name = serializers.CharField(source="name")
    description = serializers.CharField()
    status = serializers.ChoiceField(choices=ClientStatus.choices)
    permissions = serializers.ListField(child=serializers.CharField())
    allowed_ip_ranges = serializers.ListField(child=serializers.CharField())
    expires_at = serializers.DateTimeField(allow_null=True)
    rate_limit = serializers.SerializerMethodField(help_text="The client's own rate, or null")
    api_key_prefix = serializers.CharField()
    created_by = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    rotated_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)

    def get_rate_limit(self, obj) -> str | None:
        return obj.rate_limit or None

    def get_created_by(self, obj) -> str | None:
        return str(obj.created_by_id) if obj.created_by_id else None


class ClientCredentialsOutputSerializer(ClientOutputSerializer):
    """Create and rotate: the client plus ``client_secret`` and ``api_key``, shown this once only."""

    client_secret = serializers.CharField()
    api_key = serializers.CharField()


def issued_data(issued) -> dict:
    data = dict(ClientOutputSerializer(issued.client).data)
    data["client_secret"] = issued.client_secret
    data["api_key"] = issued.api_key
    return data
