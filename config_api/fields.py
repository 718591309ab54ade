"""The runtime configuration's fields, declared once.

Everything else is derived from ``FIELDS``: the model's columns (``ConfigField.model_field``), the ``PUT
config`` input serializer and the ``GET config`` output serializer, the update service's handling of each
field and its audit view, the admin form, the effective values of ``config_api.runtime`` and the API view
of ``config_api.selectors``. Adding a field means one entry here and a migration.

Per field:

* ``kind``: ``int`` (range), ``choice``, ``text`` (blank = the environment's default), ``secret`` (write-only,
  stored encrypted in ``<name>_encrypted``, never read back) or ``rate_map`` (scope -> rate).
* ``env``: the settings name whose value a blank text field stands for; ``default``: the column's default
  (a callable for defaults that come from the environment).
* ``public``: in ``GET config`` for every reader; otherwise admins (``update_config``) only.
* ``credentials``: the value may hold a password (a URL): masked wherever it is shown, write-only in the admin.
* ``check``: the validation beyond type and range, ``check(value, current=<effective value>)`` returning
  the normalised value or raising ``ValueError`` (a ``RateMapError`` names each bad key).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from majed_vanna.rates import check_rate_map

from .validation import check_data_source_url, check_http_url, check_writable_dir, mask_url

INT, CHOICE, TEXT, SECRET, RATE_MAP = "int", "choice", "text", "secret", "rate_map"


class LLMProvider(models.TextChoices):
    NONE = "none", "None"
    OPENAI = "openai", "OpenAI-compatible"
    ANTHROPIC = "anthropic", "Anthropic"


def default_rate_limit_max_requests() -> int:
    """Until the configuration says otherwise, the global rate is ``DEFAULT_THROTTLE_RATE`` (e.g. 1000/hour)."""
    from majed_vanna.api.throttles import parse_rate

    return parse_rate(settings.DEFAULT_THROTTLE_RATE)[0]


def default_rate_limit_window() -> int:
    from majed_vanna.api.throttles import parse_rate

    return parse_rate(settings.DEFAULT_THROTTLE_RATE)[1]


def default_retention_days() -> int:
    return settings.MV_BACKUP_RETENTION_DAYS


@dataclass(frozen=True)
class ConfigField:
    name: str
    label: str
    kind: str
    help_text: str = ""
    public: bool = False
    credentials: bool = False
    env: str | None = None
    default: Any = None
    min_value: int | None = None
    max_value: int | None = None
    max_length: int | None = None
    choices: Any = None
    check: Callable[..., Any] | None = None

    @property
    def secret(self) -> bool:
        return self.kind == SECRET

    @property
    def column(self) -> str:
        """The model attribute that stores this field."""
        return f"{self.name}_encrypted" if self.secret else self.name

    def model_field(self) -> models.Field:
        if self.kind == INT:
            validators = [MinValueValidator(self.min_value), MaxValueValidator(self.max_value)]
            return models.PositiveIntegerField(default=self.default, validators=validators)
        if self.kind == SECRET:
            return models.TextField(blank=True, default="", editable=False)
        if self.kind == RATE_MAP:
            return models.JSONField(default=dict, blank=True)
        return models.CharField(
            max_length=self.max_length,
            choices=self.choices.choices if self.choices else None,
            blank=True,
            default="",
        )

    def effective(self, stored: Any) -> Any:
        """The value in force: a blank text field is the environment's default."""
        if self.kind in (TEXT, CHOICE):
            return stored or (getattr(settings, self.env, "") if self.env else "") or ""
        if self.kind == RATE_MAP:
            return dict(stored or {})
        return stored

    def shown(self, value: Any) -> Any:
        """The value as responses, audit rows and the history may show it (credentials masked)."""
        return mask_url(value) if self.credentials and value else value

    def checked(self, value: Any, *, current: Any = None) -> Any:
        """The normalised value; ``ValueError`` when it is not acceptable. Blank text is never checked."""
        if self.check is None or (self.kind in (TEXT, CHOICE, SECRET) and not value):
            return value
        return self.check(value, current=current)


def _url_check(check: Callable[[str], str]) -> Callable[..., str]:
    return lambda value, current=None: check(value)


FIELDS: tuple[ConfigField, ...] = (
    ConfigField(
        "rate_limit_max_requests",
        "Default rate: requests",
        INT,
        "Requests per window for endpoints without a rate of their own",
        public=True,
        default=default_rate_limit_max_requests,
        min_value=1,
        max_value=100_000,
    ),
    ConfigField(
        "rate_limit_window",
        "Default rate: window (seconds)",
        INT,
        "Seconds",
        public=True,
        default=default_rate_limit_window,
        min_value=1,
        max_value=86_400,
    ),
    ConfigField(
        "rate_limits",
        "Rate limits per scope",
        RATE_MAP,
        'Admins only. Scope -> rate, e.g. {"agent.chat": "10000/hour"}; overrides that scope\'s default rate '
        "in every process (not auth.login)",
        check=lambda value, current=None: check_rate_map(value),
    ),
    ConfigField(
        "circuit_breaker_failure_threshold",
        "Circuit breaker: failures before opening",
        INT,
        public=True,
        default=5,
        min_value=1,
        max_value=100,
    ),
    ConfigField(
        "circuit_breaker_timeout",
        "Circuit breaker: seconds open",
        INT,
        "Seconds",
        public=True,
        default=60,
        min_value=1,
        max_value=3600,
    ),
    ConfigField(
        "llm_provider", "LLM provider", CHOICE, public=True, env="LLM_PROVIDER", max_length=16, choices=LLMProvider
    ),
    ConfigField("llm_model", "LLM model", TEXT, public=True, env="LLM_MODEL", max_length=200),
    ConfigField(
        "llm_base_url",
        "LLM base URL",
        TEXT,
        "Admins only",
        env="LLM_BASE_URL",
        max_length=500,
        check=_url_check(check_http_url),
    ),
    ConfigField(
        "llm_api_key", "LLM API key", SECRET, "Write-only; stored encrypted", env="LLM_API_KEY", max_length=500
    ),
    ConfigField(
        "agent_sql_retries",
        "Agent: SQL corrections",
        INT,
        "Admins only. How often a refused or failing query goes back to the model before the chat ends (AGENT_GAVE_UP)",
        default=2,
        min_value=0,
        max_value=5,
    ),
    ConfigField(
        "agent_max_tool_iterations",
        "Agent: tool calls per answer",
        INT,
        "Admins only. The most tool calls the model may make for one answer",
        default=5,
        min_value=1,
        max_value=20,
    ),
    ConfigField(
        "agent_daily_token_budget",
        "Agent: daily tokens per user",
        INT,
        "Admins only. LLM tokens (in + out) one user or client may spend per UTC day; 0 = unlimited",
        default=0,
        min_value=0,
        max_value=1_000_000_000,
    ),
    ConfigField(
        "data_source_url",
        "Data source URL",
        TEXT,
        "Admins only; password masked",
        credentials=True,
        env="MV_DATA_SOURCE_URL",
        max_length=1000,
        check=lambda value, current=None: check_data_source_url(value, current=current or ""),
    ),
    ConfigField(
        "backup_path",
        "Backup directory",
        TEXT,
        "Admins only",
        env="MV_BACKUP_DIR",
        max_length=1000,
        check=_url_check(check_writable_dir),
    ),
    ConfigField(
        "backup_retention_days",
        "Backup retention (days)",
        INT,
        "Admins only",
        default=default_retention_days,
        min_value=1,
        max_value=3650,
    ),
    ConfigField(
        "log_path",
        "Log directory",
        TEXT,
        "Admins only",
        env="MV_LOG_DIR",
        max_length=1000,
        check=_url_check(check_writable_dir),
    ),
)

BY_NAME: dict[str, ConfigField] = {field.name: field for field in FIELDS}
EDITABLE_FIELDS: tuple[str, ...] = tuple(BY_NAME)
