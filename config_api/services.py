"""Configuration services: update the runtime configuration, test the data source and the LLM provider.

Backup and restore services live in ``config_api.backups``.
"""

import secrets
from pathlib import Path
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from majed_vanna.api.callers import principal_identity
from majed_vanna.audit import audit_record
from majed_vanna.blocking import run_blocking

from . import probes, runtime
from .crypto import encrypt_secret
from .models import ConfigurationChange, RuntimeConfiguration
from .selectors import config_audit_view, llm_api_key
from .validation import check_data_source_url, check_http_url, check_writable_dir

EDITABLE_FIELDS = (
    "rate_limit_max_requests",
    "rate_limit_window",
    "circuit_breaker_failure_threshold",
    "circuit_breaker_timeout",
    "llm_provider",
    "llm_model",
    "llm_base_url",
    "llm_api_key",
    "data_source_url",
    "backup_path",
    "backup_retention_days",
    "log_path",
)


def _actor_fields(actor) -> tuple[str, str]:
    return principal_identity(actor, nobody="system")


def _checked(config: RuntimeConfiguration, changes: dict[str, Any]) -> dict[str, Any]:
    """Normalise URL and path values; collects every field's problem into one ValidationError."""
    errors: dict[str, list[str]] = {}
    checked = dict(changes)
    checks = {
        "data_source_url": lambda v: check_data_source_url(
            v, current=config.data_source_url or settings.MV_DATA_SOURCE_URL
        ),
        "llm_base_url": check_http_url,
        "backup_path": check_writable_dir,
        "log_path": check_writable_dir,
    }
    for field, check in checks.items():
        value = changes.get(field)
        if value:  # blank means "back to the environment's default"
            try:
                checked[field] = check(value)
            except ValueError as exc:
                errors[field] = [str(exc)]
    if errors:
        raise ValidationError(errors)
    return checked


@transaction.atomic
def config_update(*, actor, changes: dict[str, Any]) -> RuntimeConfiguration:
    """Apply a partial update, keep its history, audit ``config.update`` with old and new values (secrets
    masked) and publish the new stamp so every process uses the new values within seconds."""
    config, _ = RuntimeConfiguration.objects.select_for_update().get_or_create(pk=RuntimeConfiguration.SINGLETON_PK)
    changes = _checked(config, changes)
    before = config_audit_view(config)
    for field, value in changes.items():
        if field == "llm_api_key":
            config.llm_api_key_encrypted = encrypt_secret(value) if value else ""
        else:
            setattr(config, field, "" if value is None else value)
    config.full_clean()
    after = config_audit_view(config)
    changed = {field for field in after if after[field] != before[field]}
    if changes.get("llm_api_key"):  # a new key counts as a change even when one was set before
        changed.add("llm_key_status")
        if before["llm_key_status"] == "set":
            after["llm_key_status"] = "replaced"
    old = {field: before[field] for field in sorted(changed)}
    new = {field: after[field] for field in sorted(changed)}
    if changed:
        config.version += 1
        config.stamp = secrets.token_hex(16)
        config.updated_by_id, config.updated_by_name = _actor_fields(actor)
        config.save()
        ConfigurationChange.objects.create(
            changed_by_id=config.updated_by_id,
            changed_by_name=config.updated_by_name,
            version=config.version,
            old_values=old,
            new_values=new,
        )
        runtime.publish_stamp(None)  # this process (and this transaction) sees the change at once
        transaction.on_commit(lambda: _after_commit(config.stamp))
    audit_record(
        action="config.update",
        actor=actor,
        resource="config",
        resource_id=RuntimeConfiguration.SINGLETON_PK,
        details={"old": old, "new": new, "version": config.version},
    )
    return config


def _after_commit(stamp: str) -> None:
    runtime.publish_stamp(stamp)
    values = runtime.runtime_config_values()
    for field in ("backup_path", "log_path"):
        Path(values[field]).mkdir(parents=True, exist_ok=True)


def _llm_settings() -> dict[str, str]:
    values = runtime.runtime_config_values()
    return {
        "provider": values["llm_provider"],
        "model": values["llm_model"],
        "base_url": values["llm_base_url"],
        "api_key": llm_api_key(),
    }


def _data_source_url() -> str:
    return runtime.runtime_config_values()["data_source_url"]


async def config_test_database(*, actor) -> dict[str, Any]:
    """Connect to the agent's data source read-only and run ``SELECT 1``; audited ``config.test_database``.

    Async: the driver call (up to ``probes.DB_TIMEOUT_SECONDS``) runs on the bounded blocking pool, so it
    holds neither the event loop nor the thread that serves Django's synchronous views.
    """
    url = await sync_to_async(_data_source_url)()
    result = await run_blocking(probes.probe_data_source, url)
    await sync_to_async(_audit_probe)(actor=actor, action="config.test_database", result=result)
    return result


async def config_test_llm(*, actor) -> dict[str, Any]:
    """Send the LLM provider one minimal request with a short timeout; audited ``config.test_llm``.

    Async end to end (httpx.AsyncClient): waiting on the provider holds no thread.
    """
    llm = await sync_to_async(_llm_settings)()
    result = await probes.probe_llm(**llm)
    await sync_to_async(_audit_probe)(actor=actor, action="config.test_llm", result=result)
    return result


def _audit_probe(*, actor, action: str, result: dict[str, Any]) -> None:
    success = result["status"] == "success"
    audit_record(
        action=action,
        actor=actor,
        resource="config",
        resource_id=RuntimeConfiguration.SINGLETON_PK,
        details={"status": result["status"], "connection_time_ms": result["connection_time_ms"], **result["details"]},
        success=success,
        error_message="" if success else result["message"],
    )
