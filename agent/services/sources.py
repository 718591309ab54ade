"""Writes on data sources (contract §5 "Agent", "Data sources"), and the rule that ties the default source to
the runtime configuration's ``data_source_url``.

The rule (README "Data sources"): there is always one default source once one is needed, and its URL is the
runtime configuration's ``data_source_url``. When none is marked default (a fresh install), the first use
(listing sources, ``seed_demo``, a create or update) marks the source with the configuration's URL as the
default, creating it if needed (named ``demo`` for the embedded demo file, else ``default``). Then
``PUT config data_source_url`` changes the default source's URL (``data_source_follow_config``, called by
``config_api.services.config_update``), and changing the default source's URL or making another source
the default changes ``data_source_url`` (audited ``config.update`` as well). The default source cannot be
deleted, disabled or un-marked: make another source the default first.

Every change is audited (``data_source.create|update|delete|test``) with the URL masked.
"""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from majed_vanna import crypto
from majed_vanna.audit import audit_record
from majed_vanna.crypto import ReencryptResult
from majed_vanna.exceptions import ConflictError

from .. import selectors
from ..models import DataSource
from ..models.sources import DEFAULT_RESULT_BYTES, DEFAULT_ROW_CAP, DEFAULT_TIMEOUT_MS, default_roles
from . import source_checks as checks

logger = logging.getLogger(__name__)

RESOURCE = "data_source"
SYSTEM = "system"
UPDATABLE_FIELDS = (
    "name",
    "engine",
    "url",
    "is_default",
    "enabled",
    "roles",
    "statement_timeout_ms",
    "row_cap",
    "max_result_bytes",
    "allow_system_catalogs",
)
DEFAULT_STAYS = "The default data source stays the default until another source is made the default."


def _encrypt(url: str) -> str:
    return crypto.encrypt(url, purpose=selectors.SECRET_PURPOSE)


def _audit(action: str, *, source: DataSource, actor, details: dict | None = None, by: str = "", **extra) -> None:
    """``actor`` ``None``: an operator's command (``by``, e.g. ``manage.py seed_demo``) or the system."""
    if actor is None:
        extra.update(actor_id="", actor_name=by or SYSTEM)
    audit_record(
        action=action,
        actor=actor,
        resource=RESOURCE,
        resource_id=str(source.pk),
        details={"name": source.name, **(details or {})},
        **extra,
    )


def audit_view(source: DataSource) -> dict[str, Any]:
    """A source as audit rows show it: every field, the URL masked."""
    return {
        "name": source.name,
        "engine": source.engine,
        "url": selectors.data_source_masked_url(source),
        "is_default": source.is_default,
        "enabled": source.enabled,
        "roles": list(source.roles or []),
        "statement_timeout_ms": source.statement_timeout_ms,
        "row_cap": source.row_cap,
        "max_result_bytes": source.max_result_bytes,
        "allow_system_catalogs": source.allow_system_catalogs,
    }


def _check_name_free(name: str, *, exclude=None) -> None:
    taken = DataSource.objects.filter(name__iexact=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise ConflictError(f"A data source named {name!r} already exists", details={"name": ["Already in use."]})


def _checked_fields(values: dict[str, Any], *, current_url: str = "", current_engine: str | None = None) -> dict:
    """Every field's check; all problems in one ValidationError (422, ``details`` per field)."""
    errors = checks.check_limits(values)
    checked = {key: value for key, value in values.items() if key not in ("url", "name", "roles")}
    if "name" in values:
        try:
            checked["name"] = checks.check_name(values["name"])
        except ValueError as exc:
            errors["name"] = [str(exc)]
    if "roles" in values:
        try:
            checked["roles"] = checks.check_roles(values["roles"])
        except ValueError as exc:
            errors["roles"] = [str(exc)]
    if "url" in values:  # the engine follows a new URL unless given with it (then they must match)
        try:
            checked["url"], checked["engine"] = checks.check_url(
                values["url"], engine=values.get("engine"), current=current_url
            )
        except ValueError as exc:
            errors["url"] = [str(exc)]
    elif "engine" in values and current_url and values["engine"] != current_engine:
        errors["engine"] = ["The engine must match the URL's scheme: change the URL too."]
    checks.raise_if(errors)
    return checked


def _make_default(source: DataSource) -> None:
    DataSource.objects.filter(is_default=True).exclude(pk=source.pk).update(is_default=False)
    source.is_default = True


def _config_url() -> str:
    from config_api.fields import BY_NAME
    from config_api.selectors import config_get

    return BY_NAME["data_source_url"].effective(config_get().data_source_url)


def _sync_config(source: DataSource, *, actor) -> None:
    """The default source's URL becomes the runtime configuration's ``data_source_url`` (if it differs)."""
    from config_api.services import config_update

    url = selectors.data_source_url(source)
    if checks.normalised_url(_config_url()) != url:
        config_update(actor=actor, changes={"data_source_url": url})


@transaction.atomic
def data_source_create(
    *,
    actor,
    name: str,
    url: str,
    engine: str | None = None,
    is_default: bool = False,
    enabled: bool = True,
    roles: list[str] | None = None,
    statement_timeout_ms: int = DEFAULT_TIMEOUT_MS,
    row_cap: int = DEFAULT_ROW_CAP,
    max_result_bytes: int = DEFAULT_RESULT_BYTES,
    allow_system_catalogs: bool = False,
    by: str = "",
) -> DataSource:
    """Create a source (``system_admin``). ``engine`` defaults to the URL's; ``roles`` to every role.
    ``by``: who, when ``actor`` is ``None`` (an operator's command)."""
    data_source_default_ensure()
    values = {"name": name, "url": url, "roles": default_roles() if roles is None else roles}
    values.update(statement_timeout_ms=statement_timeout_ms, row_cap=row_cap, max_result_bytes=max_result_bytes)
    if engine is not None:
        values["engine"] = engine
    checked = _checked_fields(values)
    if is_default and not enabled:
        raise ValidationError({"enabled": ["The default data source must be enabled."]})
    _check_name_free(checked["name"])
    source = DataSource(
        name=checked["name"],
        engine=checked["engine"],
        url_encrypted=_encrypt(checked["url"]),
        enabled=enabled,
        roles=checked["roles"],
        statement_timeout_ms=statement_timeout_ms,
        row_cap=row_cap,
        max_result_bytes=max_result_bytes,
        allow_system_catalogs=allow_system_catalogs,
    )
    if is_default:
        _make_default(source)
    source.full_clean()
    source.save()
    _audit("data_source.create", source=source, actor=actor, details=audit_view(source), by=by)
    if source.is_default:
        _sync_config(source, actor=actor)
    return source


def _apply_rules(source: DataSource, changes: dict[str, Any]) -> None:
    errors = {}
    if source.is_default and changes.get("is_default") is False:
        errors["is_default"] = [DEFAULT_STAYS]
    will_be_default = changes.get("is_default", source.is_default)
    if will_be_default and changes.get("enabled", source.enabled) is False:
        errors["enabled"] = ["The default data source cannot be disabled: make another source the default first."]
    checks.raise_if(errors)


def data_source_check(*, source: DataSource | None, changes: dict[str, Any]) -> None:
    """What ``data_source_create`` (``source`` ``None``) or ``data_source_update`` would refuse, without
    saving anything (the admin's forms show each problem on its field): ``ValidationError`` or
    ``ConflictError`` (a name in use)."""
    current_url, engine = "", None
    if source is not None:
        try:
            current_url = selectors.data_source_url(source)
        except crypto.SecretUnreadableError:
            current_url = ""
        engine = source.engine
    checked = _checked_fields(changes, current_url=current_url, current_engine=engine)
    if source is not None:
        _apply_rules(source, checked)
    elif checked.get("is_default") and checked.get("enabled") is False:
        raise ValidationError({"enabled": ["The default data source must be enabled."]})
    if "name" in checked:
        _check_name_free(checked["name"], exclude=source)


@transaction.atomic
def data_source_update(*, source: DataSource, actor, **changes) -> DataSource:
    """Change any field (partial). A URL sent back masked keeps its password. Audits old and new values of
    what changed (URL masked); a new URL or engine drops the cached schema."""
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not updatable: {', '.join(sorted(unknown))}")
    data_source_default_ensure()
    source = DataSource.objects.select_for_update().get(pk=source.pk)
    try:
        current_url = selectors.data_source_url(source)
    except crypto.SecretUnreadableError:
        current_url = ""
    checked = _checked_fields(changes, current_url=current_url, current_engine=source.engine)
    _apply_rules(source, checked)
    if "name" in checked:
        _check_name_free(checked["name"], exclude=source)
    before = audit_view(source)
    url_changed = "url" in checked and checked["url"] != current_url
    for field, value in checked.items():
        if field == "url":
            if url_changed:
                source.url_encrypted = _encrypt(value)
        elif field == "is_default":
            if value and not source.is_default:
                _make_default(source)
        else:
            setattr(source, field, value)
    if url_changed or before["engine"] != source.engine:
        source.schema_snapshot, source.schema_fetched_at = None, None
    after = audit_view(source)
    diff = {key: {"old": before[key], "new": after[key]} for key in after if after[key] != before[key]}
    if url_changed and "url" not in diff:  # only the password changed: say so, never show it
        diff["url"] = {"old": before["url"], "new": after["url"], "password_changed": True}
    if not diff:
        return source
    source.full_clean()
    source.save()
    _audit("data_source.update", source=source, actor=actor, details={"changes": diff})
    if source.is_default and (url_changed or "is_default" in diff):
        _sync_config(source, actor=actor)
    return source


@transaction.atomic
def data_source_delete(*, source: DataSource, actor) -> None:
    """Delete a source; the default one is refused (409): make another source the default first."""
    source = DataSource.objects.select_for_update().get(pk=source.pk)
    if source.is_default:
        raise ConflictError(
            "The default data source cannot be deleted: make another source the default first.",
        )
    details = audit_view(source)
    _audit("data_source.delete", source=source, actor=actor, details=details)
    source.delete()


def _unique_name(base: str) -> str:
    name, n = base, 1
    while DataSource.objects.filter(name__iexact=name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def demo_sqlite_url() -> str:
    return f"sqlite:///{(settings.DATA_DIR / 'demo.sqlite3').resolve()}"


@transaction.atomic
def data_source_default_ensure() -> DataSource | None:
    """The default source; when none is marked default yet, the source with the runtime configuration's
    ``data_source_url`` becomes it (created if needed: ``demo`` for the embedded demo file, else ``default``).
    ``None`` when the configuration's URL is not a sqlite or PostgreSQL URL (nothing to create)."""
    default = selectors.data_source_default()
    if default is not None:
        return default
    from config_api.validation import data_source_provider

    url = _config_url()
    provider = data_source_provider(url)
    if provider not in ("sqlite", "postgresql"):
        logger.warning("The runtime configuration's data_source_url is not a sqlite or PostgreSQL URL: no default")
        return None
    url = checks.normalised_url(url)
    source = selectors.data_source_by_url(url)
    if source is not None:
        source = DataSource.objects.select_for_update().get(pk=source.pk)
        before = audit_view(source)
        source.is_default, source.enabled = True, True
        source.save(update_fields=["is_default", "enabled", "updated_at"])
        after = audit_view(source)
        diff = {key: {"old": before[key], "new": after[key]} for key in after if after[key] != before[key]}
        _audit("data_source.update", source=source, actor=None, details={"changes": diff, "reason": "default"})
        return source
    source = DataSource(
        name=_unique_name("demo" if url == demo_sqlite_url() else "default"),
        engine=provider,
        url_encrypted=_encrypt(url),
        is_default=True,
    )
    source.full_clean()
    source.save()
    details = {**audit_view(source), "reason": "the runtime configuration's data_source_url"}
    _audit("data_source.create", source=source, actor=None, details=details)
    return source


def data_source_follow_config(*, url: str, actor) -> DataSource | None:
    """``PUT config data_source_url`` (``config_api.services.config_update``, inside its transaction): the
    default source takes the new URL (``url`` is the effective one). Nothing to do before a default exists:
    its first use takes the configuration's URL."""
    from config_api.validation import data_source_provider

    default = DataSource.objects.select_for_update().filter(is_default=True).first()
    provider = data_source_provider(url or "")
    if default is None or provider not in ("sqlite", "postgresql"):
        return default
    new = checks.normalised_url(url)
    try:
        if selectors.data_source_url(default) == new:
            return default
    except crypto.SecretUnreadableError:
        pass
    before = audit_view(default)
    default.url_encrypted, default.engine = _encrypt(new), provider
    default.schema_snapshot, default.schema_fetched_at = None, None
    default.save()
    after = audit_view(default)
    diff = {key: {"old": before[key], "new": after[key]} for key in after if after[key] != before[key]}
    diff.setdefault("url", {"old": before["url"], "new": after["url"], "password_changed": True})
    _audit("data_source.update", source=default, actor=actor, details={"changes": diff, "reason": "config.update"})
    return default


@transaction.atomic
def data_source_register(*, name: str, url: str, by: str) -> tuple[DataSource, bool]:
    """For operators' commands (``seed_demo``, ``load_demo_data``): the source with ``url``, created (every
    role may use it, not the default) unless one exists. ``(source, created)``. A ``name`` taken by a source
    with another URL is a conflict."""
    data_source_default_ensure()
    url = checks.normalised_url(url)
    existing = selectors.data_source_by_url(url)
    if existing is not None:
        return existing, False
    _check_name_free(name)
    return data_source_create(actor=None, name=name, url=url, by=by), True


def data_sources_reencrypt() -> ReencryptResult:
    """Re-encrypt every stored data-source URL with the newest key (``manage.py reencrypt_secrets``)."""
    done = failed = 0
    for pk in DataSource.objects.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            source = DataSource.objects.select_for_update().get(pk=pk)
            try:
                token = crypto.reencrypt(source.url_encrypted, purpose=selectors.SECRET_PURPOSE)
            except crypto.SecretUnreadableError:
                logger.error("The URL of data source %s cannot be decrypted with any key", source.pk)
                failed += 1
                continue
            DataSource.objects.filter(pk=pk).update(url_encrypted=token)
            done += 1
    return ReencryptResult(reencrypted=done, unreadable=failed)


def schema_store(*, source: DataSource, snapshot: dict) -> DataSource:
    """Keep the introspected schema (not a configuration change: not audited, ``updated_at`` unchanged)."""
    now = timezone.now()
    DataSource.objects.filter(pk=source.pk).update(schema_snapshot=snapshot, schema_fetched_at=now)
    source.schema_snapshot, source.schema_fetched_at = snapshot, now
    return source
