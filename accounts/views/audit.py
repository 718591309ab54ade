"""``GET audit-logs`` (contract §5 "Audit"): read-only, ``view_logs`` permission."""

from drf_spectacular.utils import OpenApiParameter, extend_schema

from majed_vanna.api.viewsets import BaseViewSet

from .. import selectors
from ..serializers import AuditLogListOutputSerializer, AuditLogOutputSerializer


@extend_schema(tags=["audit"])
class AuditLogViewSet(BaseViewSet):
    throttle_scope_prefix = "audit_logs"
    results_key = "logs"
    serializer_class = AuditLogOutputSerializer
    required_permissions = "view_logs"
    filter_backends = []  # filtering happens in the selector (422 for bad values)

    @extend_schema(
        parameters=[
            OpenApiParameter("action", str, description="A dotted verb, e.g. auth.login_failed."),
            OpenApiParameter("user_id", str, description="The actor: a user id or an integration client id."),
            OpenApiParameter("resource", str),
            OpenApiParameter("success", bool),
            OpenApiParameter("since", str, description="ISO 8601 date-time, inclusive."),
            OpenApiParameter("until", str, description="ISO 8601 date-time, inclusive."),
        ],
        responses={200: AuditLogListOutputSerializer},
        description="Audit rows, newest first.",
    )
    def list(self, request):
        return self.paginated(selectors.audit_log_list(params=request.query_params), AuditLogOutputSerializer)
