"""Django admin for data sources: list, search, filter, create, edit, delete and test, each through the
services (so audited as in the API: ``data_source.create|update|delete|test``, and the default source tied to
the runtime configuration the same way).

The URL is write-only, as on the configuration page: shown masked, entered in a password input that is
never filled back, blank on a change keeps the stored URL.

Conversations and messages are read-only pages: chat runs write them, the API deletes them (audited).
Memories are read-only too (list, filters by kind, status, scope and data source, search): they are written
through the memory services and the review queue, which audit every change.

Feedback is the review queue (approve / reject actions, through the audited services); tool calls are a
read-only log.
"""

from asgiref.sync import async_to_sync
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from majed_vanna.admin_display import datetime_column, text_column
from majed_vanna.admin_readonly import ReadOnlyModelAdmin
from majed_vanna.exceptions import ConflictError, ValidationFailedError

from . import selectors, services
from .models import Conversation, DataSource, Feedback, Memory, Message, ToolCall
from .models.sources import SOURCE_ROLES
from .services.feedback import feedback_approve, feedback_reject
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


# --- memory: saved questions, notes and DDL (contract §5 "Knowledge"); written through the memory services and
# the review queue (audited, issue 16) and by ``seed_demo``; listed, filtered and read here


@admin.register(Memory)
class MemoryAdmin(ReadOnlyModelAdmin):
    list_display = (
        "summary",
        "kind",
        "status",
        "scope",
        "data_source",
        "use_count",
        datetime_column("updated_at", "Updated"),
    )
    list_select_related = ("data_source", "owner")
    list_filter = ("kind", "status", "scope", "data_source")
    search_fields = ("question", "sql", "content", "created_by", "owner__username", "owner_client_id")
    ordering = ("-updated_at",)
    fields = (
        "kind",
        "question",
        "sql",
        "content",
        "tags",
        "data_source",
        "scope",
        "status",
        "owner",
        "owner_client_id",
        "created_by",
        "flagged",
        "use_count",
        "last_used_at",
        "created_at",
        "updated_at",
    )

    @admin.display(description="Question / content", ordering="question")
    def summary(self, obj) -> str:
        from majed_vanna.admin_display import truncated

        return truncated(obj.question or obj.content, 64)


# --- feedback review queue (approve / reject through the audited services) and the tool-call log (read-only)


@admin.register(Feedback)
class FeedbackAdmin(ReadOnlyModelAdmin):
    """The review queue: read each feedback, then approve (its question→SQL becomes a global, approved memory)
    or reject (its draft is retired). Edited questions or SQL are approved through the API."""

    list_display = (
        text_column("question", 48),
        "rating",
        "status",
        text_column("author_name", 24, "author"),
        "data_source",
        datetime_column("created_at", "Given"),
    )
    list_select_related = ("data_source",)
    list_filter = ("status", "rating", "data_source")
    search_fields = ("question", "comment", "sql", "author_name")
    ordering = ("-created_at",)
    actions = ["approve_selected", "reject_selected"]
    fields = (
        "status",
        "rating",
        "comment",
        "question",
        "answer_sql",
        "corrected_sql",
        "sql",
        "memory",
        "data_source",
        "conversation_id",
        "author_name",
        "reviewed_by_name",
        "reviewed_at",
        "review_note",
        "created_at",
    )
    readonly_fields = fields

    def _review(self, request, queryset, verb: str, service) -> None:
        for feedback in queryset:
            try:
                service(feedback=feedback, actor=request.user)
            except (ValidationFailedError, ConflictError) as exc:
                details = "; ".join(
                    f"{field}: {' '.join(map(str, messages_))}"
                    for field, messages_ in (exc.details or {}).items()
                    if isinstance(messages_, list)
                )
                self.message_user(
                    request, f"{feedback}: {exc.message}{' - ' + details if details else ''}", messages.ERROR
                )
            else:
                self.message_user(request, f"{feedback}: {verb}", messages.SUCCESS)

    @admin.action(description="Approve the selected feedback (becomes shared knowledge)")
    def approve_selected(self, request, queryset):
        self._review(request, queryset, "approved", feedback_approve)

    @admin.action(description="Reject the selected feedback")
    def reject_selected(self, request, queryset):
        self._review(request, queryset, "rejected", feedback_reject)


@admin.register(ToolCall)
class ToolCallAdmin(ReadOnlyModelAdmin):
    list_display = (
        text_column("tool", 24),
        text_column("caller_name", 24, "caller"),
        "success",
        text_column("error_code", 20, "error"),
        "duration_ms",
        datetime_column("created_at", "When"),
    )
    list_filter = ("tool", "success")
    search_fields = ("tool", "caller_name", "client_id", "error_code")
    ordering = ("-created_at",)
    show_full_result_count = False  # the log grows without bound: never COUNT(*) it for the header


# --- the semantic layer's pages (agent/admin_semantic.py), registered on import


# The evaluation (issue 17) and semantic-layer (issue 16) pages, registered on import.
from . import admin_evals, admin_semantic  # noqa: E402, F401
