"""Django admin for integration clients: list, search, filter, create, edit, revoke and rotate, each through
the services (so audited as in the API: ``client.create``, ``client.update``, ``client.revoke``,
``client.rotate``).

Hashes and ciphertext are never part of a form. The credentials issued by "Add" and by "rotate" are rendered
once in that request's response (``Cache-Control: no-store``): not stored in a message cookie, the session,
the admin's change log or the audit row, and never shown again.
"""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils import timezone

from accounts.permissions import INTEGRATION_PERMISSIONS
from majed_vanna.admin_display import datetime_column, text_column

from . import services
from .models import IntegrationClient
from .validators import normalize_cidr

CREATE_FIELDS = ("name", "description", "permissions", "allowed_ip_ranges", "expires_at")
ISSUED_ATTRIBUTE = "_integration_client_issued"  # on the request: the add view's response shows it, once


class IntegrationClientForm(forms.ModelForm):
    permissions = forms.MultipleChoiceField(
        choices=[(name, name) for name in sorted(INTEGRATION_PERMISSIONS)], widget=forms.CheckboxSelectMultiple
    )
    allowed_ip_ranges = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One CIDR range per line (empty: any address).",
    )

    class Meta:
        model = IntegrationClient
        fields = ["name", "description", "permissions", "allowed_ip_ranges", "expires_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance and self.instance.pk:
            self.initial["allowed_ip_ranges"] = "\n".join(self.instance.allowed_ip_ranges or [])

    def clean_allowed_ip_ranges(self):
        lines = [line.strip() for line in (self.cleaned_data.get("allowed_ip_ranges") or "").splitlines()]
        return [normalize_cidr(line) for line in lines if line]

    def clean_expires_at(self):
        value = self.cleaned_data.get("expires_at")
        if value is not None and "expires_at" in self.changed_data and value <= timezone.now():
            raise forms.ValidationError("Must be in the future.")  # as in the API
        return value


@admin.register(IntegrationClient)
class IntegrationClientAdmin(admin.ModelAdmin):
    form = IntegrationClientForm
    list_display = (
        text_column("name", 32),
        "client_id",
        "status",
        "permission_list",
        datetime_column("expires_at", "Expires"),
        datetime_column("last_used_at", "Last used"),
    )  # newest first (``ordering``); the creation time is on each client's page
    list_filter = ("status",)
    search_fields = ("name", "client_id", "description")
    ordering = ("-created_at",)
    readonly_fields = (
        "client_id",
        "status",
        "api_key_prefix",
        "created_by",
        "created_at",
        "updated_at",
        "last_used_at",
        "rotated_at",
        "revoked_at",
    )
    fields = (
        "client_id",
        "name",
        "description",
        "permissions",
        "allowed_ip_ranges",
        "expires_at",
        *readonly_fields[1:],
    )
    actions = ["revoke_clients", "rotate_clients"]

    @admin.display(description="Permissions")
    def permission_list(self, obj) -> str:
        return ", ".join(obj.permissions or [])

    def get_fields(self, request, obj=None):
        return CREATE_FIELDS if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # clients are revoked, never deleted: their audit trail stays meaningful

    def save_model(self, request, obj, form, change):
        if not change:
            issued = services.client_create(
                actor=request.user, **{name: form.cleaned_data[name] for name in CREATE_FIELDS}
            )
            for field in obj._meta.concrete_fields:  # the admin logs the addition of ``obj``: make it the new row
                setattr(obj, field.attname, getattr(issued.client, field.attname))
            obj._state.adding, obj._state.db = False, issued.client._state.db
            setattr(request, ISSUED_ATTRIBUTE, issued)
            return
        changes = {field: form.cleaned_data[field] for field in form.changed_data if field in services.UPDATABLE_FIELDS}
        services.client_update(client=obj, actor=request.user, **changes)

    def response_add(self, request, obj, post_url_continue=None):
        issued = getattr(request, ISSUED_ATTRIBUTE, None)
        if issued is None:
            return super().response_add(request, obj, post_url_continue)
        return self._credentials_page(request, "Integration client created", issued=[issued], created=True)

    def _credentials_page(self, request, title: str, **context):
        context = {**self.admin_site.each_context(request), "title": title, "opts": self.model._meta, **context}
        response = TemplateResponse(request, "admin/integrations/integrationclient/credentials.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke selected clients")
    def revoke_clients(self, request, queryset):
        for client in queryset:
            services.client_revoke(client=client, actor=request.user)
        self.message_user(request, f"Revoked {queryset.count()} client(s).", messages.SUCCESS)

    @admin.action(description="Rotate credentials of selected clients (shown once)")
    def rotate_clients(self, request, queryset):
        issued, skipped = [], []
        for client in queryset:
            if client.is_revoked:
                skipped.append(client)
                continue
            issued.append(services.client_rotate(client=client, actor=request.user))
        return self._credentials_page(request, "New integration client credentials", issued=issued, skipped=skipped)
