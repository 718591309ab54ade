"""Admin pages of evaluation (issue 17): sets with their cases (edited here, references checked by the gate on the
API only: the admin shows them), runs read-only with their summary and a link to the HTML report."""

from django.contrib import admin
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from majed_vanna.admin_display import datetime_column, text_column
from majed_vanna.admin_readonly import ReadOnlyModelAdmin

from .evals.report import report_context
from .models import EvalCase, EvalResult, EvalRun, EvalSet


class EvalCaseInline(admin.TabularInline):
    model = EvalCase
    fields = ("position", "question", "reference_sql", "notes")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("position", "created_at")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(EvalSet)
class EvalSetAdmin(ReadOnlyModelAdmin):
    list_display = (
        text_column("name", 48),
        "data_source",
        text_column("created_by", 32),
        datetime_column("updated_at", "Updated"),
    )
    list_select_related = ("data_source",)
    list_filter = ("data_source",)
    search_fields = ("name", "description")
    inlines = (EvalCaseInline,)


class EvalResultInline(admin.TabularInline):
    model = EvalResult
    fields = ("matched", "question", "reason", "confidence", "retries", "latency_ms")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(EvalRun)
class EvalRunAdmin(ReadOnlyModelAdmin):
    list_display = (
        "eval_set",
        "status",
        "accuracy",
        "is_baseline",
        datetime_column("created_at", "Started"),
        "report",
    )
    list_select_related = ("eval_set",)
    list_filter = ("status", "is_baseline", "eval_set")
    readonly_fields = ("report",)
    inlines = (EvalResultInline,)

    @admin.display(description="Accuracy")
    def accuracy(self, obj) -> str:
        value = (obj.summary or {}).get("execution_accuracy")
        return "—" if value is None else f"{value:.1%}"

    @admin.display(description="Report")
    def report(self, obj) -> str:
        url = reverse(f"admin:{obj._meta.app_label}_evalrun_report", args=[obj.pk])
        return format_html('<a href="{}">report</a>', url)

    def get_urls(self):
        report = self.admin_site.admin_view(self.report_view)
        return [path("<uuid:pk>/report/", report, name="agent_evalrun_report"), *super().get_urls()]

    def report_view(self, request, pk):
        """The run's report page (the same as ``GET agent/evals/runs/{id}/report``) for staff signed in here."""
        run = get_object_or_404(EvalRun.objects.select_related("eval_set__data_source"), pk=pk)
        if not self.has_view_permission(request, run):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        return TemplateResponse(request, "agent/eval_report.html", report_context(run))
