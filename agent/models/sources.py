"""Data sources: the databases the agent may query (contract §5 "Agent", "Data sources").

The URL is stored only encrypted (``majed_vanna.crypto``, purpose ``data_source``) and shown only masked;
``agent.selectors.data_source_spec`` decrypts it for the runners. The limits bound every query the agent
runs there. ``roles`` names who may use the source: the user roles of ``majed_vanna.roles`` and
``integration`` (integration clients holding ``use_chat``). At most one source is the default: the one
that follows the runtime configuration's ``data_source_url`` (README "Data sources").
"""

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower

from agent.sql.types import ENGINES
from majed_vanna.roles import INTEGRATION_ROLE, Role

# Who may use a source: the user roles and integration clients (contract §4).
SOURCE_ROLES: tuple[str, ...] = (*(role.value for role in Role), INTEGRATION_ROLE)

TIMEOUT_MS_RANGE = (100, 300_000)
ROW_CAP_RANGE = (1, 100_000)
RESULT_BYTES_RANGE = (1024, 100 * 1024 * 1024)
DEFAULT_TIMEOUT_MS = 5_000
DEFAULT_ROW_CAP = 1_000
DEFAULT_RESULT_BYTES = 5 * 1024 * 1024


class Engine(models.TextChoices):
    SQLITE = "sqlite", "SQLite"
    POSTGRESQL = "postgresql", "PostgreSQL"


assert tuple(Engine.values) == ENGINES  # the runners' engines and the model's are the same


def default_roles() -> list[str]:
    return list(SOURCE_ROLES)


def _bounded(low: int, high: int) -> list:
    return [MinValueValidator(low), MaxValueValidator(high)]


class DataSource(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    engine = models.CharField(max_length=16, choices=Engine.choices)
    url_encrypted = models.TextField(editable=False)
    is_default = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    roles = models.JSONField(default=default_roles, blank=True)
    statement_timeout_ms = models.PositiveIntegerField(
        default=DEFAULT_TIMEOUT_MS, validators=_bounded(*TIMEOUT_MS_RANGE)
    )
    row_cap = models.PositiveIntegerField(default=DEFAULT_ROW_CAP, validators=_bounded(*ROW_CAP_RANGE))
    max_result_bytes = models.PositiveIntegerField(
        default=DEFAULT_RESULT_BYTES, validators=_bounded(*RESULT_BYTES_RANGE)
    )
    allow_system_catalogs = models.BooleanField(default=False)
    # The last introspected schema (``GET agent/data-sources/{id}/schema``); cleared when the URL changes.
    schema_snapshot = models.JSONField(null=True, blank=True, editable=False)
    schema_fetched_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="agent_datasource_name_unique"),
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="agent_datasource_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.name
