"""Integration clients: server-to-server callers with API keys and HMAC-signed requests (contract §5)."""

import uuid

from django.conf import settings
from django.db import models

from .validators import validate_cidr_list, validate_integration_permissions, validate_rate_limit


class ClientStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    REVOKED = "revoked", "Revoked"


class IntegrationClient(models.Model):
    """One integration client.

    ``client_id`` is public. The API key is stored only as a SHA-256 hash and found by its public prefix
    (``api_key_prefix``); the signing secret is stored encrypted (``integrations.crypto``) because the
    server needs it to verify signatures. Neither is ever shown again after creation or rotation.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client_id = models.CharField(max_length=40, unique=True, editable=False)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True, default="")
    permissions = models.JSONField(default=list, validators=[validate_integration_permissions])
    status = models.CharField(max_length=16, choices=ClientStatus.choices, default=ClientStatus.ACTIVE, db_index=True)
    allowed_ip_ranges = models.JSONField(default=list, blank=True, validators=[validate_cidr_list])
    expires_at = models.DateTimeField(null=True, blank=True)
    # The client's own rate for every scope but auth.login (contract §3); blank: the scopes' rates apply.
    rate_limit = models.CharField(max_length=32, blank=True, default="", validators=[validate_rate_limit])

    api_key_prefix = models.CharField(max_length=32, unique=True, editable=False)
    api_key_hash = models.CharField(max_length=64, editable=False)
    secret_encrypted = models.TextField(editable=False)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"

    @property
    def is_revoked(self) -> bool:
        return self.status == ClientStatus.REVOKED
