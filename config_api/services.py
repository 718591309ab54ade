"""Configuration services: update the runtime configuration, test the data source and the LLM provider.

Backup and restore services live in ``config_api.backups``.
"""

import secrets
from pathlib import Path
from typing import Any

from asgiref.sync import sync_to_async
from django.core.exceptions import ValidationError
from django.db import transaction

from majed_vanna import crypto
from majed_vanna.api.callers import principal_identity
from majed_vanna.audit import audit_record
from majed_vanna.blocking import run_blocking
from majed_vanna.crypto import ReencryptResult
from majed_vanna.rates import RateMapError

from . import probes, runtime
from .fields import BY_NAME, EDITABLE_FIELDS, FIELDS, RATE_MAP
from .models import ConfigurationChange, RuntimeConfiguration
from .selectors import SECRET_PURPOSE, UNREADABLE, config_audit_view, llm_key

__all__ = ["EDITABLE_FIELDS", "config_test_database", "config_test_llm", "config_update", "llm_key_reencrypt"]


def _actor_fields(actor) -> tuple[str, str]:
    return principal_identity(actor, nobody="system")


def _checked(config: RuntimeConfiguration, changes: dict[str, Any]) -> dict[str, Any]:
    """Each field's check (``config_api.fields``); every field's problem goes into one ValidationError."""
    unknown = sorted(set(changes) - set(BY_NAME))
    if unknown:
        raise ValidationError({name: ["Unknown or read-only field."] for name in unknown})
    errors: dict[str, Any] = {}
    checked = {}
    for name, value in changes.items():
        field = BY_NAME[name]
        current = None if field.secret else field.effective(getattr(config, field.column))
        try:
            checked[name] = field.checked(value, current=current)
        except RateMapError as exc:
            errors[name] = [f"{scope}: {message}" for scope, message in exc.errors.items()]
        except ValueError as exc:
            errors[name] = [str(exc)]
    if errors:
        raise ValidationError(errors)
    return checked


def _apply(config: RuntimeConfiguration, name: str, value: Any) -> None:
    field = BY_NAME[name]
    if field.secret:
        setattr(config, field.column, crypto.encrypt(value, purpose=SECRET_PURPOSE) if value else "")
    elif field.kind == RATE_MAP:
        setattr(config, field.column, dict(value or {}))
    else:
        setattr(config, field.column, "" if value is None else value)


@transaction.atomic
def config_update(*, actor, changes: dict[str, Any]) -> RuntimeConfiguration:
    """Apply a partial update, keep its history, audit ``config.update`` with old and new values (secrets
    only as set/not set, credentials masked) and publish the new stamp so every process uses the new values
    within seconds. A secret field set to "" or ``None`` is cleared."""
    config, _ = RuntimeConfiguration.objects.select_for_update().get_or_create(pk=RuntimeConfiguration.SINGLETON_PK)
    changes = _checked(config, changes)
    before = config_audit_view(config)
    stored_before = {field.name: getattr(config, field.column) for field in FIELDS if field.credentials}
    for name, value in changes.items():
        _apply(config, name, value)
    config.full_clean()
    after = config_audit_view(config)
    changed = {name for name in after if after[name] != before[name]}
    for name, stored in stored_before.items():  # a new password alone looks the same once masked
        if getattr(config, BY_NAME[name].column) != stored and name not in changed:
            changed.add(name)
            after[name] = f"{after[name]} (password changed)"
    for field in FIELDS:  # a new secret counts as a change even when one was set before
        status = f"{field.name}_status"
        if field.secret and changes.get(field.name):
            changed.add(status)
            if before[status] == "set":
                after[status] = "replaced"
    old = {name: before[name] for name in sorted(changed)}
    new = {name: after[name] for name in sorted(changed)}
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
        if "data_source_url" in changed:  # the default data source follows (README "Data sources")
            from agent.services import data_source_follow_config

            data_source_follow_config(url=BY_NAME["data_source_url"].effective(config.data_source_url), actor=actor)
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


def llm_key_reencrypt() -> ReencryptResult:
    """Re-encrypt the stored LLM API key with the newest key (``manage.py reencrypt_secrets``). Not a
    configuration change: version, stamp and history stay as they are."""
    with transaction.atomic():
        config = RuntimeConfiguration.objects.select_for_update().filter(pk=RuntimeConfiguration.SINGLETON_PK).first()
        if config is None or not config.llm_api_key_encrypted:
            return ReencryptResult(empty=1)
        try:
            token = crypto.reencrypt(config.llm_api_key_encrypted, purpose=SECRET_PURPOSE)
        except crypto.SecretUnreadableError:
            return ReencryptResult(unreadable=1)
        RuntimeConfiguration.objects.filter(pk=config.pk).update(llm_api_key_encrypted=token)
    return ReencryptResult(reencrypted=1)


def _after_commit(stamp: str) -> None:
    runtime.publish_stamp(stamp)
    values = runtime.runtime_config_values()
    for field in ("backup_path", "log_path"):
        Path(values[field]).mkdir(parents=True, exist_ok=True)


UNREADABLE_KEY_MESSAGE = (
    "The stored LLM API key cannot be decrypted (SECRET_KEY changed?): put the previous key in "
    "SECRET_KEY_FALLBACKS and run manage.py reencrypt_secrets, or set the key again."
)


def _llm_settings() -> dict[str, Any]:
    values = runtime.runtime_config_values()
    key = llm_key()
    return {
        "provider": values["llm_provider"],
        "model": values["llm_model"],
        "base_url": values["llm_base_url"],
        "api_key": key.value,
        "key_unreadable": key.source == UNREADABLE,
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
    if llm.pop("key_unreadable"):
        result = {
            "status": "failure",
            "message": UNREADABLE_KEY_MESSAGE,
            "connection_time_ms": 0.0,
            "details": {"provider": llm["provider"], "reason": "api_key_unreadable"},
        }
    else:
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
