"""Reads of the runtime configuration and the backup catalog, shaped for the API, the audit and other apps.

The configuration's shape comes from ``config_api.fields.FIELDS``.
"""

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from majed_vanna import crypto
from majed_vanna.api.filtering import filter_queryset

from . import runtime
from .fields import FIELDS
from .filters import BackupFilter
from .models import Backup, RuntimeConfiguration
from .validation import data_source_provider

logger = logging.getLogger(__name__)

SECRET_PURPOSE = "config"  # key derivation purpose of the configuration's secrets (majed_vanna.crypto)
STORED, ENVIRONMENT, NOT_SET, UNREADABLE = "stored", "environment", "not_set", "unreadable"
_reported_unreadable: set[str] = set()


def config_get() -> RuntimeConfiguration:
    """The stored record, or an unsaved one holding the defaults when none was saved yet."""
    config = RuntimeConfiguration.objects.filter(pk=RuntimeConfiguration.SINGLETON_PK).first()
    return config if config is not None else RuntimeConfiguration()


@dataclass(frozen=True)
class LLMKey:
    """The LLM API key in force and where it comes from: ``stored`` (set through the API or the admin),
    ``environment`` (``LLM_API_KEY``), ``not_set``, or ``unreadable``: a key is stored but neither
    ``SECRET_KEY`` nor any of ``SECRET_KEY_FALLBACKS`` decrypts it. An unreadable stored key is never
    replaced by the environment's: the operator must know (health ``llm``, ``GET config``, the log)."""

    source: str
    value: str = ""

    def __repr__(self) -> str:  # never the key itself
        return f"LLMKey(source={self.source!r})"


def llm_key(config: RuntimeConfiguration | None = None) -> LLMKey:
    config = config or config_get()
    token = config.llm_api_key_encrypted
    if token:
        try:
            return LLMKey(STORED, crypto.decrypt(token, purpose=SECRET_PURPOSE))
        except crypto.SecretUnreadableError:
            _report_unreadable(token)
            return LLMKey(UNREADABLE)
    if settings.LLM_API_KEY:
        return LLMKey(ENVIRONMENT, settings.LLM_API_KEY)
    return LLMKey(NOT_SET)


def _report_unreadable(token: str) -> None:
    """One log line per process and stored value (not per health call); it names no secret."""
    fingerprint = hashlib.sha256(token.encode()).hexdigest()[:16]
    if fingerprint in _reported_unreadable:
        return
    _reported_unreadable.add(fingerprint)
    logger.error(
        "The stored LLM API key cannot be decrypted with SECRET_KEY or SECRET_KEY_FALLBACKS (was SECRET_KEY "
        "changed?). Put the previous key in SECRET_KEY_FALLBACKS and run 'manage.py reencrypt_secrets', or set "
        "the LLM API key again. LLM_API_KEY is not used in its place."
    )


def llm_api_key(config: RuntimeConfiguration | None = None) -> str:
    """The LLM API key for the agent ("" when none is usable). Never for responses."""
    return llm_key(config).value


def config_public(*, include_admin_fields: bool) -> dict[str, Any]:
    """``GET config``: the public fields for every reader; admins also see the others (credentials in URLs
    masked) and the state of each secret. Never a secret."""
    config = config_get()
    values = runtime.effective_values(config)
    data: dict[str, Any] = {"database_provider": data_source_provider(values["data_source_url"])}
    data.update({field.name: field.shown(values[field.name]) for field in FIELDS if field.public and not field.secret})
    data.update(version=settings.VERSION, environment=settings.DJANGO_ENV)
    if include_admin_fields:
        for field in FIELDS:
            if not field.public and not field.secret:
                data[field.name] = field.shown(values[field.name])
        key = llm_key(config)
        data.update(
            llm_api_key_set=bool(key.value),
            llm_api_key_status=key.source,
            config_version=config.version,
            updated_at=config.updated_at,
            updated_by=config.updated_by_name or None,
        )
    return data


def config_audit_view(config: RuntimeConfiguration) -> dict[str, Any]:
    """Stored values as audit rows and history show them: credentials masked, a secret only as
    ``<name>_status`` set/not set."""
    view: dict[str, Any] = {}
    for field in FIELDS:
        stored = getattr(config, field.column)
        if field.secret:
            view[f"{field.name}_status"] = "set" if stored else "not set"
        else:
            view[field.name] = field.shown(stored)
    return view


def backup_list(*, params=None) -> QuerySet[Backup]:
    """Backups, newest first, filtered by ``status`` and ``kind`` (``BackupFilter``; a bad value is 422)."""
    return filter_queryset(BackupFilter, params or {}, Backup.objects.order_by("-created_at", "-id"))


def backup_visible_queryset(*, actor) -> QuerySet[Backup]:
    """Backups ``actor`` may see: every one, for the callers the view lets in (``backup_restore``)."""
    return Backup.objects.all()


def backup_get(*, backup_id) -> Backup | None:
    try:
        return Backup.objects.filter(pk=backup_id).first()
    except (ValueError, TypeError, ValidationError):  # not a UUID (the route lets 36 dashes through): no backup
        return None
