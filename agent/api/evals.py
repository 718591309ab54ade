"""``agent/evals`` (issue 17; contract §5 "Knowledge" → Evaluation; permission ``admin_tools``).

Sets per data source with their cases (``agent/evals/{id}/cases``, each reference SQL checked by the gate),
JSON import/export, ``POST agent/evals/{id}/run`` → 202 ``{run_id}`` (a Celery job), ``GET
agent/evals/runs/{run_id}`` (status, progress, per-case results, summary, diff), ``POST
agent/evals/runs/{run_id}/baseline`` and ``GET agent/evals/runs/{run_id}/report`` (an HTML page).
"""

from django.http import HttpResponse
from django.template.loader import render_to_string
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.decorators import action

from majed_vanna.api.viewsets import BaseViewSet
from majed_vanna.exceptions import NotFoundError

from .. import selectors
from ..evals.report import report_context
from ..models import EvalCase, EvalRun, EvalSet
from ..services import evals as services
from .eval_serializers import (
    EvalCaseInputSerializer,
    EvalCaseOutputSerializer,
    EvalCaseUpdateInputSerializer,
    EvalExportOutputSerializer,
    EvalImportInputSerializer,
    EvalRunOutputSerializer,
    EvalRunStartOutputSerializer,
    EvalSetCreateInputSerializer,
    EvalSetOutputSerializer,
    EvalSetUpdateInputSerializer,
)

SET_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Evaluation set id")
RUN_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Evaluation run id")
CASE_ID = OpenApiParameter("case_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Case id")
UUID_RE = "[0-9a-fA-F-]{36}"


@extend_schema_view(
    list=extend_schema(summary="Evaluation sets", responses=EvalSetOutputSerializer(many=True)),
    retrieve=extend_schema(summary="One evaluation set", parameters=[SET_ID], responses=EvalSetOutputSerializer),
    create=extend_schema(
        summary="Create an evaluation set for a data source",
        request=EvalSetCreateInputSerializer,
        responses={201: EvalSetOutputSerializer},
    ),
    partial_update=extend_schema(
        summary="Rename or describe an evaluation set",
        parameters=[SET_ID],
        request=EvalSetUpdateInputSerializer,
        responses=EvalSetOutputSerializer,
    ),
    destroy=extend_schema(
        summary="Delete an evaluation set with its cases and runs",
        parameters=[SET_ID],
        responses={200: OpenApiResponse(description="Deleted; data is null")},
    ),
)
class EvalSetViewSet(BaseViewSet):
    queryset = EvalSet.objects.none()
    results_key = "evals"
    lookup_value_regex = UUID_RE
    required_permissions = "admin_tools"
    users_only = True
    throttle_scope_prefix = "agent.evals"
    not_found_message = "Evaluation set not found"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def visible_queryset(self, principal):
        return selectors.eval_sets_visible(principal)

    def list(self, request):
        return self.paginated(self.get_queryset().order_by("name", "id"), EvalSetOutputSerializer)

    def retrieve(self, request, pk=None):
        return self.ok(EvalSetOutputSerializer(self.get_object()).data)

    def create(self, request):
        data = self.validated(EvalSetCreateInputSerializer, request.data)
        source = selectors.eval_source(request.user, data["data_source"])
        eval_set = services.eval_set_create(
            name=data["name"], description=data["description"], data_source=source, actor=request.user
        )
        eval_set = self.get_queryset().get(pk=eval_set.pk)
        return self.created(EvalSetOutputSerializer(eval_set).data, message="Evaluation set created")

    def partial_update(self, request, pk=None):
        eval_set = self.get_object()
        data = self.validated(EvalSetUpdateInputSerializer, request.data)
        services.eval_set_update(eval_set=eval_set, actor=request.user, **data)
        return self.ok(EvalSetOutputSerializer(self.get_queryset().get(pk=eval_set.pk)).data)

    def destroy(self, request, pk=None):
        services.eval_set_delete(eval_set=self.get_object(), actor=request.user)
        return self.deleted(message="Evaluation set deleted")

    @extend_schema(
        methods=["GET"],
        summary="The set's cases",
        parameters=[SET_ID],
        responses=EvalCaseOutputSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="Add a case (the reference SQL is checked by the read-only gate; 422 names the rule)",
        parameters=[SET_ID],
        request=EvalCaseInputSerializer,
        responses={201: EvalCaseOutputSerializer},
    )
    @action(detail=True, methods=["get", "post"])
    def cases(self, request, pk=None):
        eval_set = self.get_object()
        if request.method == "POST":
            data = self.validated(EvalCaseInputSerializer, request.data)
            case = services.eval_case_create(eval_set=eval_set, actor=request.user, **data)
            return self.created(EvalCaseOutputSerializer(case).data, message="Case added")
        self.results_key = "cases"
        return self.paginated(eval_set.cases.all(), EvalCaseOutputSerializer)

    def _case(self, eval_set: EvalSet, case_id: str) -> EvalCase:
        try:
            case = eval_set.cases.filter(pk=case_id).first()
        except (ValueError, TypeError):
            case = None
        if case is None:
            raise NotFoundError("Case not found")
        return case

    @extend_schema(
        methods=["GET"], summary="One case", parameters=[SET_ID, CASE_ID], responses=EvalCaseOutputSerializer
    )
    @extend_schema(
        methods=["PATCH"],
        summary="Change a case (a new reference SQL is checked by the gate)",
        parameters=[SET_ID, CASE_ID],
        request=EvalCaseUpdateInputSerializer,
        responses=EvalCaseOutputSerializer,
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Delete a case",
        parameters=[SET_ID, CASE_ID],
        responses={200: OpenApiResponse(description="Deleted; data is null")},
    )
    @action(detail=True, methods=["get", "patch", "delete"], url_path=rf"cases/(?P<case_id>{UUID_RE})")
    def case(self, request, pk=None, case_id=None):
        case = self._case(self.get_object(), case_id)
        if request.method == "DELETE":
            services.eval_case_delete(case=case, actor=request.user)
            return self.deleted(message="Case deleted")
        if request.method == "PATCH":
            data = self.validated(EvalCaseUpdateInputSerializer, request.data)
            case = services.eval_case_update(case=case, actor=request.user, **data)
        return self.ok(EvalCaseOutputSerializer(case).data)

    @extend_schema(
        summary="Run the set: every case asked through the agent, compared with its reference (202, a job)",
        parameters=[SET_ID],
        request=None,
        responses={202: EvalRunStartOutputSerializer},
    )
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        run = services.eval_run_start(eval_set=self.get_object(), actor=request.user)
        return self.accepted({"run_id": str(run.pk), "status": run.status}, message="Evaluation run started")

    @extend_schema(
        summary="The set's runs, newest first (without per-case results)",
        parameters=[SET_ID],
        responses=EvalRunOutputSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def runs(self, request, pk=None):
        eval_set = self.get_object()
        self.results_key = "runs"
        return self.paginated(
            selectors.eval_runs_visible(request.user).filter(eval_set=eval_set), EvalRunOutputSerializer
        )

    @extend_schema(
        summary="The set as JSON (import it elsewhere)", parameters=[SET_ID], responses=EvalExportOutputSerializer
    )
    @action(detail=True, methods=["get"])
    def export(self, request, pk=None):
        return self.ok(services.eval_set_export(self.get_object()))

    @extend_schema(
        summary="Import a set with its cases (every reference SQL checked first; all or nothing)",
        request=EvalImportInputSerializer,
        responses={201: EvalSetOutputSerializer},
    )
    @action(detail=False, methods=["post"], url_path="import")
    def import_set(self, request):
        data = self.validated(EvalImportInputSerializer, request.data)
        source = selectors.eval_source(request.user, data["data_source"])
        eval_set = services.eval_set_import(
            data_source=source,
            name=data["name"],
            description=data["description"],
            cases=data["cases"],
            actor=request.user,
        )
        eval_set = self.get_queryset().get(pk=eval_set.pk)
        return self.created(EvalSetOutputSerializer(eval_set).data, message="Evaluation set imported")


@extend_schema_view(
    retrieve=extend_schema(
        summary="A run: status, progress, per-case results, summary and the diff against the baseline",
        parameters=[RUN_ID],
        responses=EvalRunOutputSerializer,
    ),
)
class EvalRunViewSet(BaseViewSet):
    queryset = EvalRun.objects.none()
    lookup_value_regex = UUID_RE
    required_permissions = "admin_tools"
    users_only = True
    throttle_scope_prefix = "agent.evals"
    not_found_message = "Evaluation run not found"
    http_method_names = ["get", "post", "head", "options"]

    def visible_queryset(self, principal):
        return selectors.eval_runs_visible(principal)

    def retrieve(self, request, pk=None):
        return self.ok(EvalRunOutputSerializer(self.get_object(), context={"with_results": True}).data)

    @extend_schema(
        summary="Make this finished run its set's baseline (409 while it runs)",
        parameters=[RUN_ID],
        request=None,
        responses=EvalRunOutputSerializer,
    )
    @action(detail=True, methods=["post"])
    def baseline(self, request, pk=None):
        run = services.eval_run_baseline(run=self.get_object(), actor=request.user)
        return self.ok(EvalRunOutputSerializer(run).data, message="Baseline set")

    @extend_schema(
        summary="A report page (HTML): accuracy per run over time, per-tier accuracy, regressed cases first",
        parameters=[RUN_ID],
        responses={(200, "text/html"): OpenApiResponse(OpenApiTypes.STR)},
    )
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None):
        html = render_to_string("agent/eval_report.html", report_context(self.get_object()))
        return HttpResponse(html, content_type="text/html; charset=utf-8")
