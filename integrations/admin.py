"""Django admin for integration clients: list, search, filter, edit through the services, revoke, rotate.

Hashes and ciphertext are never part of a form. New credentials from ``rotate`` are rendered once in the
action's response (``Cache-Control: no-store``), not stored in a message cookie or the session.
"""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from accounts.permissions import INTEGRATION_PERMISSIONS

from . import services
from .models import IntegrationClient
from .validators import normalize_cidr


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


@admin.register(IntegrationClient)
class IntegrationClientAdmin(admin.ModelAdmin):
    form = IntegrationClientForm
    list_display = ("name", "client_id", "status", "permission_list", "expires_at", "last_used_at", "created_at")
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

    def has_add_permission(self, request) -> bool:
        # Creating shows a secret once: done through the API or ``manage.py create_integration_client``.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # clients are revoked, never deleted: their audit trail stays meaningful

    def save_model(self, request, obj, form, change):
        changes = {field: form.cleaned_data[field] for field in form.changed_data if field in services.UPDATABLE_FIELDS}
        services.client_update(client=obj, actor=request.user, **changes)

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
        context = {
            **self.admin_site.each_context(request),
            "title": "New integration client credentials",
            "opts": self.model._meta,
            "issued": issued,
            "skipped": skipped,
        }
        response = TemplateResponse(request, "admin/integrations/integrationclient/credentials.html", context)
        response["Cache-Control"] = "no-store"
        return response
