"""Django admin: the single configuration record (no secret ever shown), its history; backups in backups/admin.py."""

from django import forms
from django.contrib import admin

from majed_vanna.admin_readonly import ReadOnlyModelAdmin

from .backups import admin as backups_admin  # noqa: F401 - registers the backup catalog's admin
from .models import ConfigurationChange, RuntimeConfiguration
from .services import EDITABLE_FIELDS
from .validation import check_http_url, check_writable_dir, mask_url


class RuntimeConfigurationForm(forms.ModelForm):
    """Same checks as ``PUT config``; the data source URL and API key are not editable here (secrets)."""

    class Meta:
        model = RuntimeConfiguration
        # Everything PUT config may change, except the secrets.
        fields = tuple(name for name in EDITABLE_FIELDS if name not in ("llm_api_key", "data_source_url"))

    def _check(self, name, check):
        value = self.cleaned_data.get(name)
        if not value:
            return value
        try:
            return check(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc))

    def clean_llm_base_url(self):
        return self._check("llm_base_url", check_http_url)

    def clean_backup_path(self):
        return self._check("backup_path", check_writable_dir)

    def clean_log_path(self):
        return self._check("log_path", check_writable_dir)


@admin.register(RuntimeConfiguration)
class RuntimeConfigurationAdmin(admin.ModelAdmin):
    """Saving goes through ``config_update``: versioned, kept in the history, audited and published to
    every server process."""

    form = RuntimeConfigurationForm
    readonly_fields = ("llm_api_key_status", "data_source_url_masked", "version", "updated_at", "updated_by_name")
    list_display = ("__str__", "llm_provider", "rate_limit_max_requests", "rate_limit_window", "updated_at")

    @admin.display(description="LLM API key")
    def llm_api_key_status(self, obj):
        from .selectors import llm_api_key

        return "set (never shown; change it with PUT /api/v1/config)" if llm_api_key(obj) else "not set"

    @admin.display(description="Data source URL")
    def data_source_url_masked(self, obj):
        return mask_url(obj.data_source_url) if obj.data_source_url else "(environment default)"

    def has_add_permission(self, request):
        return not RuntimeConfiguration.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        from .services import config_update

        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        config_update(actor=request.user, changes=changes)


@admin.register(ConfigurationChange)
class ConfigurationChangeAdmin(ReadOnlyModelAdmin):
    list_display = ("changed_at", "version", "changed_by_name")
    readonly_fields = ("changed_at", "version", "changed_by_id", "changed_by_name", "old_values", "new_values")
