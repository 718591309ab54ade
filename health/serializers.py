"""Shapes of the health responses, for the OpenAPI document (the views build plain dicts)."""

from rest_framework import serializers

STATUS_CHOICES = ["healthy", "degraded", "unhealthy"]
CHECK_STATUS_CHOICES = ["healthy", "degraded", "unhealthy", "not_configured"]


class CheckOutputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CHECK_STATUS_CHOICES, help_text="not_configured is not a failure")
    required = serializers.BooleanField(help_text="A failing required check makes the service unhealthy")
    response_time_ms = serializers.FloatField()
    message = serializers.CharField(required=False)


class ChecksOutputSerializer(serializers.Serializer):
    database = CheckOutputSerializer()
    cache = CheckOutputSerializer()
    llm = CheckOutputSerializer()
    data_source = CheckOutputSerializer()
    circuit_breakers = CheckOutputSerializer(help_text="Also `breakers: {name: {state, failures, retry_after}}`")
    system = CheckOutputSerializer(help_text="Also `cpu_percent`, `memory_percent`, `disk_percent`")


class HealthOutputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=STATUS_CHOICES)
    timestamp = serializers.DateTimeField()
    uptime_seconds = serializers.IntegerField()
    version = serializers.CharField()
    checks = ChecksOutputSerializer()


class LivenessOutputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["alive"])
    timestamp = serializers.DateTimeField()
    uptime_seconds = serializers.IntegerField()


class ReadinessOutputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ready"])
    checks = serializers.DictField(child=CheckOutputSerializer(), help_text="The required checks")


class MetricsOutputSerializer(serializers.Serializer):
    requests_per_minute = serializers.IntegerField()
    active_connections = serializers.IntegerField()
    error_rate = serializers.FloatField(help_text="Share of 5xx responses over the last 5 minutes")
    average_response_time_ms = serializers.FloatField()
    processes = serializers.IntegerField(help_text="Server processes whose figures are added up")


class AuditLogLineOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    timestamp = serializers.DateTimeField()
    user_id = serializers.CharField()
    username = serializers.CharField()
    action = serializers.CharField()
    resource = serializers.CharField()
    resource_id = serializers.CharField()
    success = serializers.BooleanField()
    request_id = serializers.CharField()


class DetailedHealthOutputSerializer(serializers.Serializer):
    health = HealthOutputSerializer()
    metrics = MetricsOutputSerializer()
    logs = AuditLogLineOutputSerializer(many=True, help_text="Audit rows of the last hour, newest first, at most 50")


class CircuitBreakerResetOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    previous_state = serializers.CharField(help_text="closed, open, half_open or unknown")
    state = serializers.ChoiceField(choices=["closed", "open", "half_open", "unknown"])
    failures = serializers.IntegerField()
    retry_after = serializers.IntegerField()
