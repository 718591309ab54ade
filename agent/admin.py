"""Django admin for data sources: list, search, filter, create, edit, delete and test, each through the
services (so audited as in the API: ``data_source.create|update|delete|test``, and the default source tied to
the runtime configuration the same way).

The URL is write-only, as on the configuration page: shown masked, entered in a password input that is
never filled back, blank on a change keeps the stored URL.

Conversations and messages are read-only pages: chat runs write them, the API deletes them (audited).
"""

from asgiref.sync import async_to_sync
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from majed_vanna.admin_display import datetime_column, text_column
from majed_vanna.admin_readonly import ReadOnlyModelAdmin
from majed_vanna.exceptions import ConflictError

from . import selectors, services
from .models import Conversation, DataSource, Message
from .models.sources import SOURCE_ROLES
from .services.sources import UPDATABLE_FIELDS

FORM_FIELDS = tuple(name for name in UPDATABLE_FIELDS if name != "url")  # the URL: a write-only field of its own


class DataSourceForm(forms.ModelForm):
    """The service's checks (``data_source_check``), every problem on its own field."""

    new_url = forms.CharField(
        required=False,
        max_length=1000,
        strip=True,
        label="URL",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password", "size": 60}),
        help_text="Write-only: never shown here or anywhere else (only masked). sqlite:////absolute/path.db or "
        "postgresql://user:password@host:5432/db. On a change, leave blank to keep the current URL.",
    )
    roles = forms.MultipleChoiceField(
        choices=[(role, role) for role in SOURCE_ROLES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Who may use it (integration: integration clients with use_chat).",
    )

    class Meta:
        model = DataSource
        fields = FORM_FIELDS

    def changes(self) -> dict:
        data = self.cleaned_data
        names = FORM_FIELDS if self.instance._state.adding else [f for f in FORM_FIELDS if f in self.changed_data]
        changes = {name: data[name] for name in names if name in data}
        if data.get("new_url"):
            changes["url"] = data["new_url"]
        return changes

    def clean(self):
        cleaned = super().clean()
        adding = self.instance._state.adding
        if adding and not cleaned.get("new_url"):
            self.add_error("new_url", "A URL is required.")
            return cleaned
        if self.errors:
            return cleaned
        try:
            services.data_source_check(source=None if adding else self.instance, changes=self.changes())
        except ValidationError as exc:
            for field, messages_ in exc.message_dict.items():
                self.add_error("new_url" if field == "url" else field if field in self.fields else None, messages_)
        except ConflictError as exc:
            self.add_error("name", exc.message)
        return cleaned

    def _post_clean(self):
        pass  # the model is validated by the service when it saves


@admin.register(DataSource)
class DataSourceAdmin(admin.ModelAdmin):
    form = DataSourceForm
    list_display = (
        text_column("name", 32),
        "engine",
        "is_default",
        "enabled",
        "masked_url",
        datetime_column("updated_at", "Updated"),
    )
    list_filter = ("engine", "enabled", "is_default")
    search_fields = ("name",)
    ordering = ("name",)
    readonly_fields = ("masked_url", "schema_fetched_at", "created_at", "updated_at")
    actions = ["test_connections"]

    def get_fields(self, request, obj=None):
        fields = ("name", "engine", "new_url", *FORM_FIELDS[2:])
        return fields if obj is None else ("masked_url", *fields, *self.readonly_fields[1:])

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    @admin.display(description="URL (masked)")
    def masked_url(self, obj) -> str:
        from majed_vanna.admin_display import truncated

        return truncated(selectors.data_source_masked_url(obj), 48)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and not (obj is not None and obj.is_default)

    def save_model(self, request, obj, form, change):
        changes = form.changes()
        if change:
            saved = services.data_source_update(source=obj, actor=request.user, **changes)
        else:
            saved = services.data_source_create(actor=request.user, **changes)
        for field in obj._meta.concrete_fields:  # the admin logs ``obj``: make it the saved row
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding, obj._state.db = False, saved._state.db

    def delete_model(self, request, obj):
        services.data_source_delete(source=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for source in queryset:
            try:
                services.data_source_delete(source=source, actor=request.user)
            except ConflictError as exc:
                self.message_user(request, f"{source.name}: {exc.message}", messages.ERROR)

    @admin.action(description="Test the connection of the selected data sources")
    def test_connections(self, request, queryset):
        for source in queryset:
            result = async_to_sync(services.data_source_test)(source=source, actor=request.user)
            level = messages.SUCCESS if result["status"] == "success" else messages.ERROR
            self.message_user(request, f"{source.name}: {result['message']} ({result['connection_time_ms']} ms)", level)


# --- conversations: written only by chat runs, deleted through the API (audited); read-only here


class MessageInline(admin.TabularInline):
    model = Message
    fields = ("role", "content", "created_at")
    readonly_fields = fields
    ordering = ("created_at", "id")
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyModelAdmin):
    list_display = (
        text_column("title", 48),
        "owner",
        "data_source",
        "message_count",
        datetime_column("updated_at", "Updated"),
    )
    list_select_related = ("user", "data_source")
    list_filter = ("data_source",)
    search_fields = ("title", "user__username", "client_id", "client_name")
    ordering = ("-updated_at",)
    inlines = (MessageInline,)

    @admin.display(description="Owner")
    def owner(self, obj) -> str:
        owner = selectors.conversation_owner(obj)
        return f"{owner['name']} ({owner['type']})"


@admin.register(Message)
class MessageAdmin(ReadOnlyModelAdmin):
    list_display = (text_column("content", 64), "role", "conversation", datetime_column("created_at", "Created"))
    list_select_related = ("conversation",)
    list_filter = ("role",)
    search_fields = ("content", "conversation__id")
    ordering = ("-created_at",)


# --- the semantic layer's pages (agent/admin_semantic.py), registered on import
from . import admin_semantic  # noqa: E402, F401
