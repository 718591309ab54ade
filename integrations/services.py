"""Writes on integration clients (contract §5 "Integration clients"). Every change is audited; the audit
rows name what changed, never a secret."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from majed_vanna.audit import audit_record
from majed_vanna.crypto import ReencryptResult, SecretUnreadableError
from majed_vanna.exceptions import ConflictError

from . import crypto
from .models import ClientStatus, IntegrationClient
from .validators import normalize_cidr, normalize_rate_limit

logger = logging.getLogger(__name__)

RESOURCE = "integration_client"
LAST_USED_RESOLUTION = timedelta(minutes=1)
UPDATABLE_FIELDS = ("name", "description", "permissions", "allowed_ip_ranges", "expires_at", "rate_limit")
API_FIELD_NAMES = {"name": "client_name"}  # audit rows use the API's field names


@dataclass(frozen=True)
class IssuedClient:
    """A client with the credentials just issued to it: shown once, then only their hash/ciphertext remain."""

    client: IntegrationClient
    client_secret: str
    api_key: str


def _normalize_permissions(permissions) -> list[str]:
    return sorted(set(permissions or []))


def _normalize_ranges(ranges) -> list[str]:
    try:
        return list(dict.fromkeys(normalize_cidr(item) for item in ranges or []))
    except ValidationError as exc:
        raise ValidationError({"allowed_ip_ranges": exc.messages}) from exc


def _normalize_rate(value) -> str:
    try:
        return normalize_rate_limit(value) or ""
    except ValidationError as exc:
        raise ValidationError({"rate_limit": exc.messages}) from exc


def _audit(action: str, *, client: IntegrationClient, actor, details: dict | None = None) -> None:
    extra = {} if actor is not None else {"actor_id": "", "actor_name": "manage.py"}
    audit_record(
        action=action,
        actor=actor,
        resource=RESOURCE,
        resource_id=client.client_id,
        details={"client_name": client.name, **(details or {})},
        **extra,
    )


@transaction.atomic
def client_create(
    *,
    name: str,
    permissions: list[str],
    description: str = "",
    allowed_ip_ranges: list[str] | None = None,
    expires_at: datetime | None = None,
    rate_limit: str | None = None,
    actor=None,
) -> IssuedClient:
    """Create a client and issue its secret and API key. ``actor`` is the admin (``None``: an operator's command)."""
    credentials = crypto.issue_credentials()
    client = IntegrationClient(
        client_id=crypto.new_client_id(),
        name=name.strip(),
        description=(description or "").strip(),
        permissions=_normalize_permissions(permissions),
        allowed_ip_ranges=_normalize_ranges(allowed_ip_ranges),
        expires_at=expires_at,
        rate_limit=_normalize_rate(rate_limit),
        api_key_prefix=credentials.api_key_prefix,
        api_key_hash=credentials.api_key_hash,
        secret_encrypted=credentials.secret_encrypted,
        created_by=actor if actor is not None and not getattr(actor, "integration_client_id", None) else None,
    )
    client.full_clean()
    client.save()
    _audit(
        "client.create",
        client=client,
        actor=actor,
        details={
            "permissions": client.permissions,
            "allowed_ip_ranges": client.allowed_ip_ranges,
            "expires_at": client.expires_at.isoformat() if client.expires_at else None,
            "rate_limit": client.rate_limit or None,
        },
    )
    return IssuedClient(client=client, client_secret=credentials.client_secret, api_key=credentials.api_key)


def _comparable(value):
    return value.isoformat() if isinstance(value, datetime) else value


@transaction.atomic
def client_update(*, client: IntegrationClient, actor, **changes) -> IntegrationClient:
    """Change name, description, permissions, IP ranges, expiry or rate limit; audits old and new values of
    what changed."""
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not updatable: {', '.join(sorted(unknown))}")
    if "name" in changes:
        changes["name"] = changes["name"].strip()
    if "description" in changes:
        changes["description"] = (changes["description"] or "").strip()
    if "permissions" in changes:
        changes["permissions"] = _normalize_permissions(changes["permissions"])
    if "allowed_ip_ranges" in changes:
        changes["allowed_ip_ranges"] = _normalize_ranges(changes["allowed_ip_ranges"])
    if "rate_limit" in changes:
        changes["rate_limit"] = _normalize_rate(changes["rate_limit"])
    client = IntegrationClient.objects.select_for_update().get(pk=client.pk)
    diff = {}
    for field, new in changes.items():
        old = getattr(client, field)
        if _comparable(old) != _comparable(new):
            diff[API_FIELD_NAMES.get(field, field)] = {"old": _comparable(old), "new": _comparable(new)}
            setattr(client, field, new)
    if not diff:
        return client
    client.full_clean()
    client.save()
    _audit("client.update", client=client, actor=actor, details={"changes": diff})
    return client


@transaction.atomic
def client_revoke(*, client: IntegrationClient, actor) -> IntegrationClient:
    """Revoke for good: key and signatures stop working at once. Revoking twice changes nothing."""
    client = IntegrationClient.objects.select_for_update().get(pk=client.pk)
    if client.is_revoked:
        return client
    client.status = ClientStatus.REVOKED
    client.revoked_at = timezone.now()
    client.save(update_fields=["status", "revoked_at", "updated_at"])
    _audit("client.revoke", client=client, actor=actor)
    return client


@transaction.atomic
def client_rotate(*, client: IntegrationClient, actor) -> IssuedClient:
    """Issue a new secret and API key; the old ones stop working at once. A revoked client cannot be rotated."""
    client = IntegrationClient.objects.select_for_update().get(pk=client.pk)
    if client.is_revoked:
        raise ConflictError("A revoked client cannot be rotated")
    credentials = crypto.issue_credentials()
    client.api_key_prefix = credentials.api_key_prefix
    client.api_key_hash = credentials.api_key_hash
    client.secret_encrypted = credentials.secret_encrypted
    client.rotated_at = timezone.now()
    client.save(update_fields=["api_key_prefix", "api_key_hash", "secret_encrypted", "rotated_at", "updated_at"])
    _audit("client.rotate", client=client, actor=actor)
    return IssuedClient(client=client, client_secret=credentials.client_secret, api_key=credentials.api_key)


def client_mark_used(*, client: IntegrationClient) -> None:
    """Record use at most once a minute per client, so authentication does not write on every request."""
    now = timezone.now()
    if client.last_used_at is not None and now - client.last_used_at < LAST_USED_RESOLUTION:
        return
    IntegrationClient.objects.filter(pk=client.pk).update(last_used_at=now)
    client.last_used_at = now


def client_secrets_reencrypt() -> ReencryptResult:
    """Re-encrypt every stored client secret with the newest key (``manage.py reencrypt_secrets``)."""
    done = failed = 0
    for pk in IntegrationClient.objects.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            client = IntegrationClient.objects.select_for_update().get(pk=pk)
            try:
                client.secret_encrypted = crypto.reencrypt_secret(client.secret_encrypted)
            except SecretUnreadableError:
                logger.error("Secret of integration client %s cannot be decrypted with any key", client.client_id)
                failed += 1
                continue
            client.save(update_fields=["secret_encrypted"])
            done += 1
    return ReencryptResult(reencrypted=done, unreadable=failed)
