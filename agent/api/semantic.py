"""``agent/semantic/*`` (contract §5 "Knowledge" → Semantic layer): ``use_chat`` reads, ``admin_tools`` writes.

* ``tables``, ``columns``: list, retrieve, ``PATCH`` (description, synonyms; a table's ``visible_to``), delete.
  They are created by the scan (``POST agent/semantic/sync``), not by hand.
* ``metrics``, ``terms``, ``relationships``: list, create, retrieve, ``PATCH``, delete.
* ``GET agent/semantic/search?q=``: entries ranked by relevance (BM25), in the list envelope (``results``).
* ``POST agent/semantic/sync`` ``{data_source?}``: scan the data source, answer the drift report (async: it
  waits on the data source).

A caller sees the entries of the data sources it may use; without ``admin_tools`` not those of a table whose
``visible_to`` leaves its role out (404). Writes are audited ``semantic.update``, scans ``semantic.sync``.
"""

from asgiref.sync import sync_to_async
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.fields import DateTimeField

from majed_vanna.api.async_views import ApiResult, async_api_view
from majed_vanna.api.filtering import filterset_parameters
from majed_vanna.api.pagination import EnvelopePagination, page_parameter_schemas
from majed_vanna.api.parsers import loads_json
from majed_vanna.api.viewsets import BaseAPIView, BaseViewSet
from majed_vanna.exceptions import BadRequestError, ValidationFailedError

from .. import selectors
from ..knowledge import semantic as reads
from ..knowledge.semantic_filters import (
    SemanticColumnFilter,
    SemanticMetricFilter,
    SemanticRelationshipFilter,
    SemanticTableFilter,
    SemanticTermFilter,
)
from ..models import SemanticColumn, SemanticMetric, SemanticRelationship, SemanticTable, SemanticTerm
from ..services import semantic as services
from ..services.semantic_sync import semantic_sync
from . import semantic_serializers as s

READ, WRITE = "use_chat", "admin_tools"
ENTRY_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Entry id")
WHO = (
    "use_chat reads the entries of the data sources it may use (without admin_tools, not those of a table whose "
    "visible_to leaves its role out); admin_tools writes. Audited semantic.update."
)


def _source(principal, source_id, *, field: str = "data_source"):
    """A data source ``principal`` may use, named in a body or query field (422 on that field otherwise)."""
    try:
        source = selectors.data_sources_visible(principal).filter(pk=source_id).first()
    except (ValueError, TypeError, DjangoValidationError):
        source = None
    if source is None:
        raise ValidationFailedError(details={field: ["No data source with this id is available to you."]})
    return source


def _schema(kind: str, plural: str, output, filterset, update, create=None):
    views = {
        "list": extend_schema(
            summary=f"Semantic layer: {plural}",
            description=WHO,
            parameters=filterset_parameters(filterset),
            responses=output(many=True),
        ),
        "retrieve": extend_schema(summary=f"One {kind}", description=WHO, parameters=[ENTRY_ID], responses=output),
        "partial_update": extend_schema(
            summary=f"Describe a {kind} (admin_tools; partial)",
            description="A description written here is marked described_by: human; the scan never overwrites it.",
            parameters=[ENTRY_ID],
            request=update,
            responses=output,
        ),
        "destroy": extend_schema(
            summary=f"Delete a {kind} (admin_tools)",
            parameters=[ENTRY_ID],
            responses={200: OpenApiResponse(description="Deleted; data is null")},
        ),
    }
    if create is not None:
        views["create"] = extend_schema(
            summary=f"Create a {kind} (admin_tools); 422 per invalid field, 409 for a name in use",
            request=create,
            responses={201: output},
        )
    return extend_schema_view(**views)


class _SemanticViewSet(BaseViewSet):
    kind = ""
    output = None
    update_input = None
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    required_permissions = {
        "list": READ,
        "retrieve": READ,
        "create": WRITE,
        "partial_update": WRITE,
        "destroy": WRITE,
    }
    throttle_scope_prefix = "agent.semantic"

    def visible_queryset(self, principal):
        return reads.VISIBLE[self.kind](principal)

    def list(self, request):
        return self.paginated(
            reads.semantic_list(kind=self.kind, principal=request.user, params=request.query_params), self.output
        )

    def retrieve(self, request, pk=None):
        return self.ok(self.output(self.get_object()).data)

    def partial_update(self, request, pk=None):
        entry = self.get_object()  # an unknown id is 404 whatever the body
        data = self.validated(self.update_input, request.data)
        entry = services.semantic_entry_update(entry=entry, actor=request.user, **data)
        return self.ok(
            self.output(self.get_queryset().get(pk=entry.pk)).data, message=f"{self.kind.capitalize()} updated"
        )

    def destroy(self, request, pk=None):
        services.semantic_entry_delete(entry=self.get_object(), actor=request.user)
        return self.deleted(message=f"{self.kind.capitalize()} deleted")

    def _created(self, entry):
        return self.created(
            self.output(self.get_queryset().get(pk=entry.pk)).data, message=f"{self.kind.capitalize()} created"
        )


@_schema("table", "tables", s.SemanticTableOutputSerializer, SemanticTableFilter, s.SemanticTableUpdateInputSerializer)
class SemanticTableViewSet(_SemanticViewSet):
    queryset = SemanticTable.objects.none()  # for the schema generator only; reads go through selectors
    results_key, kind, not_found_message = "tables", "table", "Table not found"
    output, update_input = s.SemanticTableOutputSerializer, s.SemanticTableUpdateInputSerializer


@_schema(
    "column", "columns", s.SemanticColumnOutputSerializer, SemanticColumnFilter, s.SemanticColumnUpdateInputSerializer
)
class SemanticColumnViewSet(_SemanticViewSet):
    queryset = SemanticColumn.objects.none()
    results_key, kind, not_found_message = "columns", "column", "Column not found"
    output, update_input = s.SemanticColumnOutputSerializer, s.SemanticColumnUpdateInputSerializer


@_schema(
    "metric",
    "metrics",
    s.SemanticMetricOutputSerializer,
    SemanticMetricFilter,
    s.SemanticMetricUpdateInputSerializer,
    s.SemanticMetricCreateInputSerializer,
)
class SemanticMetricViewSet(_SemanticViewSet):
    """Metrics are checked on save: the base table is a table of the layer, the expression and each filter one SQL
    expression, and the statement they make passes the read-only gate (422 on the field at fault)."""

    queryset = SemanticMetric.objects.none()
    results_key, kind, not_found_message = "metrics", "metric", "Metric not found"
    output, update_input = s.SemanticMetricOutputSerializer, s.SemanticMetricUpdateInputSerializer

    def create(self, request):
        data = dict(self.validated(s.SemanticMetricCreateInputSerializer, request.data))
        source = _source(request.user, data.pop("data_source"))
        return self._created(services.semantic_metric_create(actor=request.user, data_source=source, **data))


@_schema(
    "term",
    "terms",
    s.SemanticTermOutputSerializer,
    SemanticTermFilter,
    s.SemanticTermUpdateInputSerializer,
    s.SemanticTermCreateInputSerializer,
)
class SemanticTermViewSet(_SemanticViewSet):
    queryset = SemanticTerm.objects.none()
    results_key, kind, not_found_message = "terms", "term", "Term not found"
    output, update_input = s.SemanticTermOutputSerializer, s.SemanticTermUpdateInputSerializer

    def create(self, request):
        data = dict(self.validated(s.SemanticTermCreateInputSerializer, request.data))
        source = _source(request.user, data.pop("data_source"))
        return self._created(services.semantic_term_create(actor=request.user, data_source=source, **data))


@_schema(
    "relationship",
    "relationships",
    s.SemanticRelationshipOutputSerializer,
    SemanticRelationshipFilter,
    s.SemanticRelationshipUpdateInputSerializer,
    s.SemanticRelationshipCreateInputSerializer,
)
class SemanticRelationshipViewSet(_SemanticViewSet):
    queryset = SemanticRelationship.objects.none()
    results_key, kind, not_found_message = "relationships", "relationship", "Relationship not found"
    output, update_input = s.SemanticRelationshipOutputSerializer, s.SemanticRelationshipUpdateInputSerializer

    def create(self, request):
        data = dict(self.validated(s.SemanticRelationshipCreateInputSerializer, request.data))
        source = _source(request.user, data.pop("data_source"))
        return self._created(services.semantic_relationship_create(actor=request.user, data_source=source, **data))


class SemanticSearchView(BaseAPIView):
    pagination_class = EnvelopePagination  # the schema's paged envelope (drf-spectacular reads it off the view)
    required_permissions = READ
    throttle_scopes = "agent.semantic.search"
    results_key = "results"

    @extend_schema(
        summary="Semantic-layer entries ranked by relevance to q (BM25; best first)",
        description="Present entries only (not removed ones), at most 100, paged. " + WHO.split(";")[0] + ".",
        parameters=[
            s.SemanticSearchQuerySerializer,
            *[OpenApiParameter(name, int, OpenApiParameter.QUERY) for name in page_parameter_schemas()],
        ],
        responses=s.SemanticSearchResultSerializer(many=True),
    )
    def get(self, request):
        query = self.validated_query(s.SemanticSearchQuerySerializer)
        source = query.get("data_source")
        if source is not None:
            source = _source(request.user, source).pk
        kinds = (query["kind"],) if query.get("kind") else reads.KINDS
        found = reads.semantic_search(principal=request.user, query=query["q"], data_source=source, kinds=kinds)
        return self.paginated(found, s.SemanticSearchResultSerializer)


def _sync_body(request) -> dict:
    """The body: empty, or a JSON object (400 for malformed JSON or another content type, 422 for bad fields)."""
    raw = request.body or b""
    if raw.strip():
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise BadRequestError("Send the request as application/json")
        try:
            data = loads_json(raw)
        except (ValueError, UnicodeDecodeError):
            raise BadRequestError("Malformed JSON") from None
    else:
        data = {}
    if not isinstance(data, dict):
        raise BadRequestError("The body must be a JSON object")
    serializer = s.SemanticSyncInputSerializer(data=data)
    if not serializer.is_valid():
        raise ValidationFailedError(details={k: [str(m) for m in v] for k, v in serializer.errors.items()})
    return serializer.validated_data


def _sync_source(principal, source_id):
    if source_id is not None:
        return _source(principal, source_id)
    from ..services import data_source_default_ensure

    data_source_default_ensure()
    default = selectors.data_sources_visible(principal).filter(is_default=True).first()
    if default is None:
        raise ValidationFailedError(details={"data_source": ["Name the data source to scan."]})
    return default


@async_api_view(
    methods=["POST"],
    permission=WRITE,
    throttle_scope="agent.semantic.sync",
    schema={
        "POST": {
            "request": s.SemanticSyncInputSerializer,
            "responses": s.SemanticSyncOutputSerializer,
            "summary": "Scan a data source: create missing entries, record sample values, report drift (admin_tools)",
        }
    },
)
async def semantic_sync_view(request):
    """Introspect the live data source (the default one unless ``data_source`` names another) and bring its
    semantic layer up to date; answers the drift report: added, removed and changed tables, columns and
    relationships, and the metrics and memories the removals break (flagged). Descriptions people wrote are
    never overwritten or deleted. 503 when the data source does not answer. Audited ``semantic.sync``."""
    data = _sync_body(request)
    source = await sync_to_async(_sync_source)(request.user, data.get("data_source"))
    report = await semantic_sync(source=source, actor=request.user)
    # ISO 8601 as every other endpoint answers dates (the async view's JSON would str() a datetime)
    report = {**report, "synced_at": DateTimeField().to_representation(report["synced_at"])}
    return ApiResult(report, message="Semantic layer synchronised")
