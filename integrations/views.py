"""``integrations/clients`` (contract §5 "Integration clients"): admin-only (manage_integrations)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.decorators import action

from majed_vanna.api.filtering import filterset_parameters
from majed_vanna.api.viewsets import BaseViewSet

from . import selectors, services
from .filters import ClientFilter
from .models import IntegrationClient
from .serializers import (
    ClientCreateInputSerializer,
    ClientCredentialsOutputSerializer,
    ClientOutputSerializer,
    ClientUpdateInputSerializer,
    issued_data,
)

CLIENT_ID = OpenApiParameter("client_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="Public client id")


@extend_schema_view(
    list=extend_schema(
        summary="List integration clients (never their secrets)",
        parameters=filterset_parameters(ClientFilter),
        responses=ClientOutputSerializer(many=True),
    ),
    create=extend_schema(
        summary="Create a client; its client_secret and api_key are shown in this response only",
        request=ClientCreateInputSerializer,
        responses={201: ClientCredentialsOutputSerializer},
    ),
    retrieve=extend_schema(summary="One client", parameters=[CLIENT_ID], responses=ClientOutputSerializer),
    partial_update=extend_schema(
        summary="Change name, description, permissions, IP ranges or expiry",
        parameters=[CLIENT_ID],
        request=ClientUpdateInputSerializer,
        responses=ClientOutputSerializer,
    ),
    destroy=extend_schema(
        summary="Revoke a client (its key and signatures stop working; the row is kept)",
        parameters=[CLIENT_ID],
        responses={200: None},
    ),
    rotate=extend_schema(
        summary="Issue a new secret and API key (shown once); the old ones stop working at once",
        parameters=[CLIENT_ID],
        request=None,
        responses={200: ClientCredentialsOutputSerializer},
    ),
)
class IntegrationClientViewSet(BaseViewSet):
    queryset = IntegrationClient.objects.none()  # for the schema generator only; reads go through selectors
    results_key = "clients"
    lookup_field = "client_id"
    lookup_value_regex = r"[A-Za-z0-9_]{1,40}"
    required_permissions = "manage_integrations"
    throttle_scope_prefix = "integrations"
    throttle_scopes = {"list": "integrations.list", "create": "integrations.create"}

    not_found_message = "Integration client not found"

    def visible_queryset(self, principal):
        return selectors.client_visible_queryset(actor=principal)

    def list(self, request):
        return self.paginated(selectors.client_list(params=request.query_params), ClientOutputSerializer)

    def create(self, request):
        data = self.validated(ClientCreateInputSerializer, request.data)
        issued = services.client_create(**data, actor=request.user)
        return self.created(issued_data(issued), message="Integration client created; store the secret and key now")

    def retrieve(self, request, client_id=None):
        return self.ok(ClientOutputSerializer(self.get_object()).data)

    def partial_update(self, request, client_id=None):
        data = self.validated(ClientUpdateInputSerializer, request.data)
        client = services.client_update(client=self.get_object(), actor=request.user, **data)
        return self.ok(ClientOutputSerializer(client).data, message="Integration client updated")

    def destroy(self, request, client_id=None):
        services.client_revoke(client=self.get_object(), actor=request.user)
        return self.deleted(message="Integration client revoked")

    @action(detail=True, methods=["post"])
    def rotate(self, request, client_id=None):
        issued = services.client_rotate(client=self.get_object(), actor=request.user)
        return self.ok(issued_data(issued), message="Credentials rotated; store the new secret and key now")
