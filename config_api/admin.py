"""Django admin: the single configuration record and its history; the backup catalog is in backups/admin.py.

The configuration page is derived from ``config_api.fields``: it shows the values in force (defaults and
the environment's values included, the LLM provider and key source actually used), edits every field with
the same checks as ``PUT config``, and takes the LLM API key and the data source URL as write-only inputs
(never displayed back, blank means unchanged, a checkbox clears them). Saving goes through
``config_update``: versioned, kept in the history, audited and published to every server process.
"""

from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join

from majed_vanna.admin_readonly import ReadOnlyModelAdmin
from majed_vanna.rates import RateMapError

from .backups import admin as backups_admin  # noqa: F401 - registers the backup catalog's admin
from .fields import BY_NAME, FIELDS, INT, RATE_MAP, ConfigField
from .models import ConfigurationChange, RuntimeConfiguration

# Secrets, and values that may hold one (the data source URL's password), are never shown in a form.
WRITE_ONLY = tuple(field for field in FIELDS if field.secret or field.credentials)
EDITABLE = tuple(field for field in FIELDS if field not in WRITE_ONLY)
KEY_SOURCES = {
    "stored": "stored here (encrypted)",
    "environment": "from LLM_API_KEY (environment)",
    "not_set": "not set",
    "unreadable": "UNREADABLE: a key is stored but SECRET_KEY (or a fallback) no longer decrypts it; "
    "LLM_API_KEY is not used in its place. Set it again, or restore the old key and run "
    "manage.py reencrypt_secrets",
}


def _write_only_fields() -> dict[str, forms.Field]:
    declared: dict[str, forms.Field] = {}
    for field in WRITE_ONLY:
        declared[f"new_{field.name}"] = forms.CharField(
            required=False,
            max_length=field.max_length,
            strip=True,
            label=f"New {field.label}",
            widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password", "size": 60}),
            help_text="Write-only: never shown here or anywhere else. Leave blank to keep the current value.",
        )
        declared[f"clear_{field.name}"] = forms.BooleanField(
            required=False,
            label=f"Clear the {field.label}",
            help_text=f"Back to the environment's default ({field.env})." if field.env else "",
        )
    return declared


class _ConfigurationForm(forms.ModelForm):
    """Same checks as ``PUT config`` (``ConfigField.checked``), every problem on its own field."""

    def clean(self):
        cleaned = super().clean()
        config = self.instance
        for field in FIELDS:
            value = self._submitted(field, cleaned)
            if value is None:
                continue
            current = None if field.secret else field.effective(getattr(config, field.column))
            try:
                cleaned[self._input_name(field)] = field.checked(value, current=current)
            except RateMapError as exc:
                self.add_error(field.name, [f"{scope}: {message}" for scope, message in exc.errors.items()])
            except ValueError as exc:
                self.add_error(self._input_name(field), str(exc))
        for field in WRITE_ONLY:
            if cleaned.get(f"new_{field.name}") and cleaned.get(f"clear_{field.name}"):
                self.add_error(f"clear_{field.name}", "Either enter a new value or clear it, not both.")
        return cleaned

    @staticmethod
    def _input_name(field: ConfigField) -> str:
        return f"new_{field.name}" if field in WRITE_ONLY else field.name

    def _submitted(self, field: ConfigField, cleaned: dict):
        name = self._input_name(field)
        if name not in cleaned:
            return None
        value = cleaned[name]
        if field.kind == RATE_MAP:
            return value if value is not None else {}
        return value or None  # blank: unchanged (write-only) or the environment's default (checked by no one)

    def changes(self) -> dict:
        """What ``config_update`` receives: changed fields, new or cleared write-only values."""
        data = self.cleaned_data
        changes = {field.name: data[field.name] for field in EDITABLE if field.name in self.changed_data}
        if "rate_limits" in changes and changes["rate_limits"] is None:
            changes["rate_limits"] = {}
        for field in WRITE_ONLY:
            if data.get(f"clear_{field.name}"):
                changes[field.name] = ""
            elif data.get(f"new_{field.name}"):
                changes[field.name] = data[f"new_{field.name}"]
        return changes


RuntimeConfigurationForm = type(forms.ModelForm)(
    "RuntimeConfigurationForm",
    (_ConfigurationForm,),
    {
        "__module__": __name__,
        **_write_only_fields(),
        "Meta": type(
            "Meta",
            (),
            {
                "model": RuntimeConfiguration,
                "fields": tuple(field.name for field in EDITABLE),
                "labels": {field.name: field.label for field in EDITABLE},
                "help_texts": {field.name: field.help_text for field in EDITABLE if field.help_text},
            },
        ),
    },
)


def _source(field: ConfigField, config: RuntimeConfiguration) -> str:
    stored = getattr(config, field.column)
    if field.kind == INT:
        default = field.default() if callable(field.default) else field.default
        return "set here" if stored != default else "default"
    if field.kind == RATE_MAP:
        return "set here" if stored else "none (each scope's default rate)"
    return "set here" if stored else f"default ({field.env})" if field.env else "default"


@admin.register(RuntimeConfiguration)
class RuntimeConfigurationAdmin(admin.ModelAdmin):
    form = RuntimeConfigurationForm
    readonly_fields = ("effective_configuration", "version", "updated_at", "updated_by_name")
    list_display = ("__str__", "llm_provider_in_force", "rate_limit_max_requests", "rate_limit_window", "updated_at")
    fieldsets = (
        ("In force now", {"fields": ("effective_configuration",)}),
        ("Settings (blank text: the environment's default)", {"fields": tuple(field.name for field in EDITABLE)}),
        (
            "Secrets (write-only)",
            {
                "fields": tuple(name for field in WRITE_ONLY for name in (f"new_{field.name}", f"clear_{field.name}")),
                "description": "The LLM API key and the data source URL are never shown: enter a new value to "
                "replace one, tick the box to clear it.",
            },
        ),
        ("Record", {"fields": ("version", "updated_at", "updated_by_name")}),
    )

    @admin.display(description="Effective configuration")
    def effective_configuration(self, obj):
        from . import runtime
        from .selectors import llm_key
        from .validation import data_source_provider

        values = runtime.effective_values(obj)
        rows = [("Data source provider", data_source_provider(values["data_source_url"]), "from the URL")]
        for field in FIELDS:
            if field.secret:
                rows.append((field.label, "never shown", KEY_SOURCES[llm_key(obj).source]))
            else:
                rows.append((field.label, _shown(field, values[field.name]), _source(field, obj)))
        body = format_html_join("", "<tr><th>{}</th><td>{}</td><td>{}</td></tr>", rows)
        return format_html(
            '<table class="mv-effective"><tr><th>Setting</th><th>In force</th><th>Source</th></tr>{}</table>', body
        )

    @admin.display(description="LLM provider in force")
    def llm_provider_in_force(self, obj):
        return BY_NAME["llm_provider"].effective(obj.llm_provider)

    def has_add_permission(self, request):
        return not RuntimeConfiguration.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        from .services import config_update

        config_update(actor=request.user, changes=form.changes())


def _shown(field: ConfigField, value) -> str:
    if field.kind == RATE_MAP:
        return ", ".join(f"{scope}: {rate}" for scope, rate in value.items()) or "—"
    shown = field.shown(value)
    return "—" if shown in ("", None) else str(shown)


@admin.register(ConfigurationChange)
class ConfigurationChangeAdmin(ReadOnlyModelAdmin):
    list_display = ("changed_at", "version", "changed_by_name")
    readonly_fields = ("changed_at", "version", "changed_by_id", "changed_by_name", "old_values", "new_values")
