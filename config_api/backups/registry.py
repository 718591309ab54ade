"""Which tables are application data, and in which order to write them.

Models are discovered from the app registry, never listed by hand: every concrete, managed model of the
project's own apps (those living in this repository), plus the JWT token blacklist tables. Django's
sessions, content types, admin log, permissions and migrations are not application data.

A model can set ``backup_policy`` on its class:

* ``"replace"`` (default): a restore deletes the table's rows and inserts the backup's.
* ``"merge"``: append-only data (the audit log, issued and blacklisted tokens). A restore inserts the
  backup's rows that are missing and keeps every newer row, so the audit trail is never cut short and
  a token revoked after the backup stays revoked.
* ``"exclude"``: not backed up, untouched by a restore (the backup catalog itself).
"""

from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import models

EXTRA_APP_LABELS = frozenset({"token_blacklist"})
DEFAULT_POLICIES = {
    "accounts.auditlog": "merge",
    "token_blacklist.outstandingtoken": "merge",
    "token_blacklist.blacklistedtoken": "merge",
}


@dataclass(frozen=True)
class Table:
    label: str  # "app_label.model_name"
    model: type[models.Model]
    policy: str

    @property
    def file_name(self) -> str:
        return f"tables/{self.label}.ndjson"


def _project_app_labels() -> set[str]:
    base = Path(settings.BASE_DIR).resolve()
    venv = base / ".venv"
    labels = set(EXTRA_APP_LABELS)
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if path.is_relative_to(base) and not path.is_relative_to(venv):
            labels.add(config.label)
    return labels


def policy_for(model: type[models.Model]) -> str:
    label = model._meta.label_lower
    return getattr(model, "backup_policy", None) or DEFAULT_POLICIES.get(label, "replace")


def _dependency_order(candidates: list[type[models.Model]]) -> list[type[models.Model]]:
    """Parents before children (by foreign keys among the candidates); ties by label, so the order is stable."""
    pending = {model._meta.label_lower: model for model in candidates}
    ordered: list[type[models.Model]] = []
    while pending:
        ready = [
            label
            for label, model in sorted(pending.items())
            if not any(
                field.related_model._meta.label_lower in pending and field.related_model._meta.label_lower != label
                for field in model._meta.concrete_fields
                if field.is_relation and field.related_model is not None
            )
        ]
        if not ready:  # a cycle: constraints are deferred, any order commits
            ready = sorted(pending)
        for label in ready:
            ordered.append(pending.pop(label))
    return ordered


def application_tables() -> list[Table]:
    """Every backed-up table (policy ``replace`` or ``merge``), parents first."""
    labels = _project_app_labels()
    candidates = [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in labels
        and model._meta.managed
        and not model._meta.proxy
        and not model._meta.swapped
        and policy_for(model) != "exclude"
    ]
    return [Table(label=m._meta.label_lower, model=m, policy=policy_for(m)) for m in _dependency_order(candidates)]


def migration_state(app_labels: set[str]) -> dict[str, list[str]]:
    """Applied migrations of the given apps: ``{app_label: [names, sorted]}``."""
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    state: dict[str, list[str]] = {label: [] for label in sorted(app_labels)}
    for app_label, name in MigrationRecorder(connection).applied_migrations():
        if app_label in state:
            state[app_label].append(name)
    return {label: sorted(names) for label, names in state.items()}
