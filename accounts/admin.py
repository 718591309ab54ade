"""Django admin for staff (active admins): users, the read-only audit log and the read-only token tables.

Every change goes through ``accounts.services`` so the same rules and audit apply as in the API. Users are
never hard-deleted here: "Deactivate" is the soft delete. Roles, not groups, decide permissions: Django's
group pages are removed. Issued and blacklisted refresh tokens are records: listed and read, never added.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.template.response import TemplateResponse
from django.urls import reverse
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from majed_vanna.admin_display import compact_datetime, datetime_column, text_column, truncated
from majed_vanna.admin_readonly import ReadOnlyModelAdmin

from . import lockout, services
from .models import AuditLog, User
from .permissions import Role


class UserAddForm(forms.ModelForm):
    password1 = forms.CharField(label="Password", strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label="Password (again)", strip=False, widget=forms.PasswordInput)

    class Meta:
        model = User
        fields = ["username", "role", "must_change_password"]
        labels = {"username": "Email"}

    def clean_username(self):
        username = lockout.normalize_username(self.cleaned_data["username"])
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("A user with this username already exists.")
        return username

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            try:
                validate_password(first, user=User(username=cleaned.get("username") or ""))
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class UserChangeForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["username", "role", "is_active", "must_change_password"]
        labels = {"username": "Email"}

    def clean_username(self):
        username = lockout.normalize_username(self.cleaned_data["username"])
        if User.objects.filter(username__iexact=username).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("A user with this username already exists.")
        return username


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = [
        text_column("username", 36, "Email"),
        "role",
        "active",
        "locked",
        "password_change_due",
        datetime_column("last_login", "Last login"),
        datetime_column("created_at", "Created"),
    ]
    list_filter = ["role", "is_active", "must_change_password"]
    search_fields = ["username"]
    ordering = ["username"]
    readonly_fields = ["id", "created_at", "updated_at", "last_login", "tokens_valid_after"]
    actions = ["unlock_users", "reset_passwords", "deactivate_users"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = UserChangeForm if obj is not None else UserAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["username", "role", "must_change_password", "password1", "password2"]
        return ["id", "username", "role", "is_active", "must_change_password", *self.readonly_fields[1:]]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.pk == request.user.pk:  # nobody changes their own role or active flag
            return [*self.readonly_fields, "role", "is_active", "must_change_password"]
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False  # soft delete only: the "Deactivate" action

    @admin.display(boolean=True, description="Active", ordering="is_active")
    def active(self, obj) -> bool:
        return obj.is_active

    @admin.display(boolean=True, description="Must change pw", ordering="must_change_password")
    def password_change_due(self, obj) -> bool:
        return obj.must_change_password

    @admin.display(boolean=True, description="Locked")
    def locked(self, obj) -> bool:
        return lockout.locked_for(obj.username) > 0

    def save_model(self, request, obj, form, change):
        if not change:
            created = services.user_create(
                actor=request.user,
                username=obj.username,
                password=form.cleaned_data["password1"],
                role=obj.role or Role.NORMAL,
                must_change_password=obj.must_change_password,
            )
            obj.pk, obj._state.adding, obj._state.db = created.pk, False, created._state.db
            return
        data = {name: form.cleaned_data[field] for name, field in self._EDITABLE.items() if field in form.cleaned_data}
        services.user_update(actor=request.user, user=User.objects.get(pk=obj.pk), data=data)

    _EDITABLE = {
        "username": "username",
        "role": "role",
        "active": "is_active",
        "must_change_password": "must_change_password",
    }

    @admin.action(description="Unlock selected users (lift the login lockout)")
    def unlock_users(self, request, queryset):
        unlocked = [user.username for user in queryset if services.user_unlock(actor=request.user, user=user)]
        self.message_user(request, f"Unlocked {len(unlocked)} user(s).", messages.SUCCESS)

    @admin.action(description="Reset password of selected users (shows one-time temporary passwords)")
    def reset_passwords(self, request, queryset):
        issued = []
        for user in queryset.exclude(pk=request.user.pk):
            issued.append((user.username, services.user_reset_password(actor=request.user, user=user)))
        context = {
            **self.admin_site.each_context(request),
            "title": "Temporary passwords",
            "issued": issued,
            "back_url": reverse("admin:accounts_user_changelist"),
        }
        response = TemplateResponse(request, "admin/accounts/user/temporary_passwords.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Deactivate selected users (soft delete, tokens revoked)")
    def deactivate_users(self, request, queryset):
        count = 0
        for user in queryset.exclude(pk=request.user.pk).filter(is_active=True):
            services.user_delete(actor=request.user, user=user)
            count += 1
        self.message_user(request, f"Deactivated {count} user(s); you cannot deactivate yourself.", messages.SUCCESS)


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyModelAdmin):
    """Read-only: audit rows are append-only."""

    list_display = [
        datetime_column("timestamp", "Time"),
        text_column("action", 28),
        text_column("username", 28, "Actor"),
        text_column("resource", 20),
        text_column("resource_id", 14, "Resource id"),
        "success",
        text_column("ip_address", 15, "IP address"),
    ]
    list_filter = ["success", "action", "resource"]
    search_fields = ["username", "user_id", "action", "resource_id", "request_id"]
    date_hierarchy = "timestamp"


class OutstandingTokenAdmin(ReadOnlyModelAdmin):
    """Refresh tokens issued (read-only): revoking happens through logout, password changes and deactivation."""

    list_display = [
        text_column("jti", 14, "Token id"),
        "owner",
        datetime_column("created_at", "Issued"),
        datetime_column("expires_at", "Expires"),
    ]
    list_select_related = ["user"]
    exclude = ["token"]  # the refresh token itself: whoever reads it could use it
    search_fields = ["jti", "user__username"]
    ordering = ["-created_at"]

    @admin.display(description="User", ordering="user__username")
    def owner(self, obj) -> str:
        return truncated(obj.user.username if obj.user_id else "-", 36)


class BlacklistedTokenAdmin(ReadOnlyModelAdmin):
    """Refresh tokens revoked (read-only): written by logout, password changes and deactivation."""

    list_display = ["token_id", "owner", "expires", datetime_column("blacklisted_at", "Blacklisted")]
    list_select_related = ["token__user"]
    search_fields = ["token__jti", "token__user__username"]
    ordering = ["-blacklisted_at"]

    @admin.display(description="Token id", ordering="token__jti")
    def token_id(self, obj) -> str:
        return truncated(obj.token.jti, 14)

    @admin.display(description="User", ordering="token__user__username")
    def owner(self, obj) -> str:
        return truncated(obj.token.user.username if obj.token.user_id else "-", 36)

    @admin.display(description="Expires", ordering="token__expires_at")
    def expires(self, obj) -> str:
        return compact_datetime(obj.token.expires_at)


def replace_third_party_pages(site=admin.site) -> None:
    """Hide Groups (roles, not groups, drive permissions) and make the token-blacklist pages read-only.

    Called from ``AccountsConfig.ready()``: by then the admin's autodiscovery has imported every app's admin
    module, whatever the order of INSTALLED_APPS (accounts comes before django.contrib.auth, so that its
    ``createsuperuser`` wins)."""
    if site.is_registered(Group):
        site.unregister(Group)
    for model, model_admin in ((OutstandingToken, OutstandingTokenAdmin), (BlacklistedToken, BlacklistedTokenAdmin)):
        if site.is_registered(model):
            site.unregister(model)
        site.register(model, model_admin)
