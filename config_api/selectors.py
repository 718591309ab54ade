"""Reads of the runtime configuration and the backup catalog, shaped for the API, the audit and other apps."""

from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from majed_vanna.api.filtering import filter_queryset

from . import runtime
from .crypto import decrypt_secret
from .filters import BackupFilter
from .models import Backup, RuntimeConfiguration
from .validation import data_source_provider, mask_url


def config_get() -> RuntimeConfiguration:
    """The stored record, or an unsaved one holding the defaults when none was saved yet."""
    config = RuntimeConfiguration.objects.filter(pk=RuntimeConfiguration.SINGLETON_PK).first()
    return config if config is not None else RuntimeConfiguration()


def llm_api_key(config: RuntimeConfiguration | None = None) -> str:
    """The LLM API key for the agent: the stored (encrypted) one, else ``LLM_API_KEY``. Never for responses."""
    config = config or config_get()
    return decrypt_secret(config.llm_api_key_encrypted) or settings.LLM_API_KEY or ""


def config_public(*, include_admin_fields: bool) -> dict[str, Any]:
    """``GET config``: the contract's public fields; admins also see paths, the masked data source URL,
    the LLM base URL and whether an API key is set. Never a secret."""
    config = config_get()
    values = runtime.effective_values(config)
    data = {
        "database_provider": data_source_provider(values["data_source_url"]),
        "llm_provider": values["llm_provider"],
        "llm_model": values["llm_model"],
        "rate_limit_max_requests": values["rate_limit_max_requests"],
        "rate_limit_window": values["rate_limit_window"],
        "circuit_breaker_failure_threshold": values["circuit_breaker_failure_threshold"],
        "circuit_breaker_timeout": values["circuit_breaker_timeout"],
        "version": settings.VERSION,
        "environment": settings.DJANGO_ENV,
    }
    if include_admin_fields:
        data.update(
            {
                "data_source_url": mask_url(values["data_source_url"]),
                "llm_base_url": values["llm_base_url"],
                "llm_api_key_set": bool(llm_api_key(config)),
                "backup_path": values["backup_path"],
                "backup_retention_days": values["backup_retention_days"],
                "log_path": values["log_path"],
                "config_version": config.version,
                "updated_at": config.updated_at,
                "updated_by": config.updated_by_name or None,
            }
        )
    return data


def config_audit_view(config: RuntimeConfiguration) -> dict[str, Any]:
    """Stored values as audit rows and history show them: URLs masked, the API key only as set/not set."""
    return {
        "rate_limit_max_requests": config.rate_limit_max_requests,
        "rate_limit_window": config.rate_limit_window,
        "circuit_breaker_failure_threshold": config.circuit_breaker_failure_threshold,
        "circuit_breaker_timeout": config.circuit_breaker_timeout,
        "llm_provider": config.llm_provider,
        "llm_model": config.llm_model,
        "llm_base_url": config.llm_base_url,
        "llm_key_status": "set" if config.llm_api_key_encrypted else "not set",
        "data_source_url": mask_url(config.data_source_url),
        "backup_path": config.backup_path,
        "backup_retention_days": config.backup_retention_days,
        "log_path": config.log_path,
    }


def backup_list(*, params=None) -> QuerySet[Backup]:
    """Backups, newest first, filtered by ``status`` and ``kind`` (``BackupFilter``; a bad value is 422)."""
    return filter_queryset(BackupFilter, params or {}, Backup.objects.order_by("-created_at", "-id"))


def backup_get(*, backup_id) -> Backup | None:
    try:
        return Backup.objects.filter(pk=backup_id).first()
    except (ValueError, TypeError):
        return None
