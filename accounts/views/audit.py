"""``GET audit-logs`` (contract §5 "Audit"): read-only, ``view_logs`` permission."""

from drf_spectacular.utils import extend_schema

from majed_vanna.api.filtering import filterset_parameters
from majed_vanna.api.pagination import EstimatedTotalPagination
from majed_vanna.api.viewsets import BaseViewSet

from .. import selectors
from ..filters import AuditLogFilter
from ..serializers import AuditLogListOutputSerializer, AuditLogOutputSerializer


@extend_schema(tags=["audit"])
class AuditLogViewSet(BaseViewSet):
    throttle_scope_prefix = "audit_logs"
    results_key = "logs"
    serializer_class = AuditLogOutputSerializer
    required_permissions = "view_logs"
    pagination_class = EstimatedTotalPagination  # never COUNT(*) the whole log on each page

    @extend_schema(
        parameters=filterset_parameters(AuditLogFilter),
        responses={200: AuditLogListOutputSerializer},
        description=(
            "Audit rows, newest first. The log grows without bound, so a page never counts it in full: has_next is "
            "exact, total is exact up to a thousand matching rows and an estimate beyond (total_is_estimate)."
        ),
    )
    def list(self, request):
        return self.paginated(selectors.audit_log_list(params=request.query_params), AuditLogOutputSerializer)
