"""Django admin pages of the semantic layer (registered by ``agent.admin``). Every write goes through the
services, so it is checked and audited as in the API (``semantic.update``): tables and columns come from the
scan (described here, never added), metrics, terms and relationships are added and changed here.

A form is checked by running its service inside a savepoint that is rolled back (``_dry_run``): each problem
shows on its own field, with exactly the API's rules, and nothing is written until the admin saves.
"""

from django import forms
from django.contrib import admin
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from majed_vanna.admin_display import datetime_column, text_column
from majed_vanna.exceptions import ApplicationError

from .models import SemanticColumn, SemanticMetric, SemanticRelationship, SemanticTable, SemanticTerm
from .models.sources import SOURCE_ROLES
from .services import semantic as services


class _RolledBack(Exception):
    pass


def _dry_run(form: forms.Form, call) -> None:
    """Run ``call()`` and roll it back; its refusals become the form's field errors."""
    try:
        with transaction.atomic():
            call()
            raise _RolledBack
    except _RolledBack:
        pass
    except ApplicationError as exc:
        details = exc.details if isinstance(exc.details, dict) else {}
        if not details:
            form.add_error(None, exc.message)
        for field, messages in details.items():
            form.add_error(field if field in form.fields else None, messages)


def _list_text(value) -> list[str]:
    return [part.strip() for part in (value or "").replace("\n", ",").split(",") if part.strip()]


class _EntryForm(forms.ModelForm):
    """Synonyms typed as comma-separated text; ``changes()`` is what the service is given."""

    synonyms = forms.CharField(required=False, help_text="Other words people use for it, separated by commas")
    editable: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "synonyms" in self.fields and not self.is_bound:
            self.initial["synonyms"] = ", ".join(self.instance.synonyms or [])

    def clean_synonyms(self):
        return _list_text(self.cleaned_data.get("synonyms"))

    def changes(self) -> dict:
        names = self.editable if self.instance._state.adding else [f for f in self.editable if f in self.changed_data]
        return {name: self.cleaned_data[name] for name in names if name in self.cleaned_data}

    def actor(self):
        return getattr(self, "request_user", None)

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            _dry_run(self, self.save_through_service)
        return cleaned

    def save_through_service(self):
        return services.semantic_entry_update(entry=self.instance, actor=self.actor(), **self.changes())

    def _post_clean(self):
        pass  # the service validates and saves


class _ServiceAdmin(admin.ModelAdmin):
    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"request_user": request.user})

    def save_model(self, request, obj, form, change):
        saved = form.save_through_service()
        for field in obj._meta.concrete_fields:  # the admin logs ``obj``: make it the saved row
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding, obj._state.db = False, saved._state.db

    def delete_model(self, request, obj):
        services.semantic_entry_delete(entry=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for entry in queryset:
            services.semantic_entry_delete(entry=entry, actor=request.user)


SCANNED = ("state", "state_detail", "described_by", "synced_at", "created_at", "updated_at")


class SemanticTableForm(_EntryForm):
    visible_to = forms.MultipleChoiceField(
        choices=[(role, role) for role in SOURCE_ROLES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Roles that may see the table",
    )
    editable = ("description", "synonyms", "visible_to")

    class Meta:
        model = SemanticTable
        fields = ("description", "visible_to")


@admin.register(SemanticTable)
class SemanticTableAdmin(_ServiceAdmin):
    form = SemanticTableForm
    list_display = (
        text_column("name", 40),
        "data_source",
        "kind",
        "state",
        "described_by",
        datetime_column("synced_at", "Scanned"),
    )
    list_select_related = ("data_source",)
    list_filter = ("data_source", "state", "described_by")
    search_fields = ("name", "description")
    ordering = ("data_source__name", "name")
    readonly_fields = ("data_source", "name", "kind", "row_estimate", "column_list", *SCANNED)
    fields = (
        "data_source",
        "name",
        "kind",
        "description",
        "synonyms",
        "visible_to",
        "row_estimate",
        "column_list",
        *SCANNED,
    )

    @admin.display(description="Columns")
    def column_list(self, obj) -> str:
        """Each column with its type and state, linked to its own page (where it is described)."""
        links = [
            format_html(
                '<a href="{}">{}</a> {} ({})',
                reverse("admin:agent_semanticcolumn_change", args=[column.pk]),
                column.name,
                column.data_type,
                column.state,
            )
            for column in obj.columns.order_by("name")
        ]
        return format_html_join(mark_safe("<br>"), "{}", ((link,) for link in links)) if links else "-"

    def has_add_permission(self, request) -> bool:
        return False  # the scan adds tables (POST agent/semantic/sync, manage.py sync_semantic_layer)


class SemanticColumnForm(_EntryForm):
    editable = ("description", "synonyms")

    class Meta:
        model = SemanticColumn
        fields = ("description",)


@admin.register(SemanticColumn)
class SemanticColumnAdmin(_ServiceAdmin):
    form = SemanticColumnForm
    list_display = (text_column("name", 32), "table", text_column("data_type", 24, "type"), "state", "described_by")
    list_select_related = ("table",)
    list_filter = ("data_source", "state", "described_by")
    search_fields = ("name", "description", "table__name")
    ordering = ("table__name", "name")
    readonly_fields = (
        "data_source",
        "table",
        "name",
        "data_type",
        "nullable",
        "primary_key",
        "sample_values",
        *SCANNED,
    )
    fields = (
        "data_source",
        "table",
        "name",
        "data_type",
        "description",
        "synonyms",
        "sample_values",
        "nullable",
        "primary_key",
        *SCANNED,
    )

    def has_add_permission(self, request) -> bool:
        return False


class SemanticMetricForm(_EntryForm):
    filters = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="SQL conditions, one per line (AND)"
    )
    editable = ("name", "description", "synonyms", "expression", "table", "filters")

    class Meta:
        model = SemanticMetric
        fields = ("data_source", "name", "description", "expression", "table")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["filters"] = "\n".join(self.instance.filters or [])
        if not self.instance._state.adding:
            self.fields.pop("data_source", None)

    def clean_filters(self):
        return [line.strip() for line in (self.cleaned_data.get("filters") or "").splitlines() if line.strip()]

    def save_through_service(self):
        if self.instance._state.adding:
            return services.semantic_metric_create(
                actor=self.actor(), data_source=self.cleaned_data["data_source"], **self.changes()
            )
        return super().save_through_service()


@admin.register(SemanticMetric)
class SemanticMetricAdmin(_ServiceAdmin):
    form = SemanticMetricForm
    list_display = (
        text_column("name", 32),
        "data_source",
        text_column("table", 32),
        text_column("expression", 40),
        text_column("flagged", 32),
    )
    list_select_related = ("data_source",)
    list_filter = ("data_source",)
    search_fields = ("name", "description", "expression")
    ordering = ("data_source__name", "name")
    readonly_fields = ("flagged", "created_at", "updated_at")


class SemanticTermForm(_EntryForm):
    editable = ("term", "definition", "synonyms")

    class Meta:
        model = SemanticTerm
        fields = ("data_source", "term", "definition")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            self.fields.pop("data_source", None)

    def save_through_service(self):
        if self.instance._state.adding:
            return services.semantic_term_create(
                actor=self.actor(), data_source=self.cleaned_data["data_source"], **self.changes()
            )
        return super().save_through_service()


@admin.register(SemanticTerm)
class SemanticTermAdmin(_ServiceAdmin):
    form = SemanticTermForm
    list_display = (
        text_column("term", 32),
        "data_source",
        text_column("definition", 60),
        datetime_column("updated_at", "Updated"),
    )
    list_select_related = ("data_source",)
    list_filter = ("data_source",)
    search_fields = ("term", "definition")
    ordering = ("data_source__name", "term")


class SemanticRelationshipForm(_EntryForm):
    from_columns = forms.CharField(required=False, help_text="Columns of the first table, separated by commas")
    to_columns = forms.CharField(required=False, help_text="The matching columns of the second table, in order")
    editable = ("description",)

    class Meta:
        model = SemanticRelationship
        fields = ("data_source", "from_table", "to_table", "description")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.pop("synonyms", None)
        if not self.instance._state.adding:
            for name in ("data_source", "from_table", "from_columns", "to_table", "to_columns"):
                self.fields.pop(name, None)

    def save_through_service(self):
        if not self.instance._state.adding:
            return super().save_through_service()
        data = self.cleaned_data
        return services.semantic_relationship_create(
            actor=self.actor(),
            data_source=data["data_source"],
            from_table=data["from_table"],
            from_columns=_list_text(data.get("from_columns")),
            to_table=data["to_table"],
            to_columns=_list_text(data.get("to_columns")),
            description=data.get("description") or "",
        )


@admin.register(SemanticRelationship)
class SemanticRelationshipAdmin(_ServiceAdmin):
    form = SemanticRelationshipForm
    list_display = (text_column("key", 60), "data_source", "origin", "state", datetime_column("updated_at", "Updated"))
    list_select_related = ("data_source",)
    list_filter = ("data_source", "origin", "state")
    search_fields = ("key", "description")
    ordering = ("data_source__name", "from_table", "to_table")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("key", "origin", "state", "state_detail", "described_by", "synced_at")
