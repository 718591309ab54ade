"""``agent/data-sources`` (contract §5 "Agent", "Data sources").

Callers with ``use_chat`` list and read the sources their role may use, without connection details;
``system_admin`` sees every source (URL masked) and creates, changes, deletes and tests them. The connection
test and the schema wait on the data source: they are async views (``async_api_view``).
"""

from asgiref.sync import sync_to_async
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view

from config_api.serializers import ConnectionTestOutputSerializer
from majed_vanna.api.async_views import ApiResult, async_api_view
from majed_vanna.api.filtering import filterset_parameters
from majed_vanna.api.viewsets import BaseViewSet
from majed_vanna.exceptions import NotFoundError, ValidationFailedError

from .. import selectors, services
from ..filters import DataSourceFilter
from ..models import DataSource
from .serializers import (
    DataSourceCreateInputSerializer,
    DataSourceOutputSerializer,
    DataSourceReplaceInputSerializer,
    DataSourceSchemaOutputSerializer,
    DataSourceSchemaQuerySerializer,
    DataSourceSummaryOutputSerializer,
    DataSourceUpdateInputSerializer,
)

NOT_FOUND = "Data source not found"
ADMIN = "system_admin"
SOURCE_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Data source id")
DEFAULT_RULE = (
    " The default source is the runtime configuration's data source: changing its URL, or making another "
    "source the default, changes config data_source_url too (and PUT config data_source_url changes the "
    "default source's URL). The default source cannot be deleted, disabled or un-marked."
)


def output_serializer(principal):
    return (
        DataSourceOutputSerializer
        if selectors.may_manage_data_sources(principal)
        else DataSourceSummaryOutputSerializer
    )


@extend_schema_view(
    list=extend_schema(
        summary="Data sources the caller may use (system_admin: all, URL masked; others: id, name, engine, "
        "is_default only)",
        description="On first use the runtime configuration's data source becomes the default source." + DEFAULT_RULE,
        parameters=filterset_parameters(DataSourceFilter),
        responses=DataSourceOutputSerializer(many=True),
    ),
    retrieve=extend_schema(
        summary="One data source (system_admin: with the masked URL; others: no connection details)",
        parameters=[SOURCE_ID],
        responses=DataSourceOutputSerializer,
    ),
    create=extend_schema(
        summary="Create a data source (system_admin); 422 per invalid field, 409 for a name in use",
        description="The URL's scheme must match the engine; a sqlite file must exist inside MV_ALLOWED_PATH_ROOTS."
        + DEFAULT_RULE,
        request=DataSourceCreateInputSerializer,
        responses={201: DataSourceOutputSerializer},
    ),
    update=extend_schema(
        summary="Replace a data source's settings (system_admin; name and url required)",
        description=DEFAULT_RULE.strip(),
        parameters=[SOURCE_ID],
        request=DataSourceReplaceInputSerializer,
        responses=DataSourceOutputSerializer,
    ),
    partial_update=extend_schema(
        summary="Change some of a data source's settings (system_admin)",
        description=DEFAULT_RULE.strip(),
        parameters=[SOURCE_ID],
        request=DataSourceUpdateInputSerializer,
        responses=DataSourceOutputSerializer,
    ),
    destroy=extend_schema(
        summary="Delete a data source (system_admin; 409 for the default source)",
        parameters=[SOURCE_ID],
        responses={200: OpenApiResponse(description="Deleted; data is null")},
    ),
)
class DataSourceViewSet(BaseViewSet):
    queryset = DataSource.objects.none()  # for the schema generator only; reads go through selectors
    results_key = "data_sources"
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    required_permissions = {
        "list": "use_chat",
        "retrieve": "use_chat",
        "create": ADMIN,
        "update": ADMIN,
        "partial_update": ADMIN,
        "destroy": ADMIN,
    }
    throttle_scope_prefix = "data_sources"
    not_found_message = NOT_FOUND

    def visible_queryset(self, principal):
        return selectors.data_sources_visible(principal)

    def list(self, request):
        services.data_source_default_ensure()
        queryset = selectors.data_source_list(principal=request.user, params=request.query_params)
        return self.paginated(queryset, output_serializer(request.user))

    def retrieve(self, request, pk=None):
        return self.ok(output_serializer(request.user)(self.get_object()).data)

    def create(self, request):
        data = self.validated(DataSourceCreateInputSerializer, request.data)
        source = services.data_source_create(actor=request.user, **data)
        return self.created(DataSourceOutputSerializer(source).data, message="Data source created")

    def update(self, request, pk=None):
        source = self.get_object()  # an unknown id is 404 whatever the body
        data = self.validated(DataSourceReplaceInputSerializer, request.data)
        source = services.data_source_update(source=source, actor=request.user, **data)
        return self.ok(DataSourceOutputSerializer(source).data, message="Data source updated")

    def partial_update(self, request, pk=None):
        source = self.get_object()  # an unknown id is 404 whatever the body
        data = self.validated(DataSourceUpdateInputSerializer, request.data)
        source = services.data_source_update(source=source, actor=request.user, **data)
        return self.ok(DataSourceOutputSerializer(source).data, message="Data source updated")

    def destroy(self, request, pk=None):
        services.data_source_delete(source=self.get_object(), actor=request.user)
        return self.deleted(message="Data source deleted")


def _visible_source(principal, source_id: str) -> DataSource:
    try:
        source = selectors.data_sources_visible(principal).filter(pk=source_id).first()
    except (ValueError, TypeError, DjangoValidationError):  # a malformed id names nothing: 404
        source = None
    if source is None:
        raise NotFoundError(NOT_FOUND)
    return source


@async_api_view(
    methods=["POST"],
    permission=ADMIN,
    throttle_scope="data_sources.test",
    schema={
        "POST": {
            "request": None,
            "parameters": [SOURCE_ID],
            "responses": ConnectionTestOutputSerializer,
            "summary": "Test a data source's connection (system_admin; same shape as config/test-database)",
        }
    },
)
async def data_source_test_view(request, id):
    """Connect to the data source read-only and run ``SELECT 1`` (gives up after a few seconds). A failed
    connection is ``200`` with ``status: "failure"``: the test itself worked. Audited ``data_source.test``."""
    source = await sync_to_async(_visible_source)(request.user, id)
    result = await services.data_source_test(source=source, actor=request.user)
    return ApiResult(result, message=result["message"])


def _refresh(request) -> bool:
    serializer = DataSourceSchemaQuerySerializer(data=request.GET)
    if not serializer.is_valid():
        raise ValidationFailedError(details={key: [str(m) for m in value] for key, value in serializer.errors.items()})
    return serializer.validated_data["refresh"]


@async_api_view(
    methods=["GET"],
    permission="use_chat",
    throttle_scope="data_sources.schema",
    schema={
        "GET": {
            "parameters": [
                SOURCE_ID,
                OpenApiParameter(
                    "refresh",
                    OpenApiTypes.BOOL,
                    OpenApiParameter.QUERY,
                    description="true: read the schema from the data source again instead of the stored copy",
                ),
            ],
            "responses": DataSourceSchemaOutputSerializer,
            "summary": "A data source's schema: tables, views, columns, types, keys, row estimates",
        }
    },
)
async def data_source_schema_view(request, id):
    """The schema of a data source the caller may use, read once and kept (``cached: true``) until
    ``?refresh=true`` or a new URL. 503 when the data source does not answer."""
    refresh = _refresh(request)
    source = await sync_to_async(_visible_source)(request.user, id)
    return ApiResult(await services.data_source_schema(source=source, refresh=refresh), message="Data source schema")
