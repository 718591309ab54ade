"""``agent/tools/registry`` and ``agent/tools/history`` (contract §5 "Knowledge" → tools registry).

``admin_tools`` reads every tool with its settings and usage, and the call log; ``system_admin`` enables or
disables a tool and chooses its roles (the contract's "admin"), audited ``tool.update`` and effective within a
second or two in every process (``agent.tool_settings``).
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view

from majed_vanna.api.filtering import filterset_parameters
from majed_vanna.api.pagination import EstimatedTotalPagination
from majed_vanna.api.viewsets import BaseViewSet

from .. import selectors
from ..filters import ToolCallFilter
from ..services.tools_registry import tool_by_id, tool_setting_update
from .tools_registry_serializers import (
    ToolCallOutputSerializer,
    ToolRegistryOutputSerializer,
    ToolSettingUpdateInputSerializer,
)

TOOL_ID = OpenApiParameter("tool_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="Tool id (run_sql ...)")


def _registry_entry(tool_id: str) -> dict:
    return next(entry for entry in selectors.tool_registry() if entry["tool_id"] == tool_id)


@extend_schema_view(
    list=extend_schema(
        summary="Every tool with its settings and usage (admin_tools)",
        description="enabled and roles decide whether the model is offered a tool for a caller (no stored "
        "setting: enabled, default_roles); usage_count, error_count and mean_duration_ms come from the call log.",
        responses=ToolRegistryOutputSerializer(many=True),
    ),
    partial_update=extend_schema(
        summary="Enable or disable a tool, or change its roles (system_admin; audited tool.update)",
        description="Effective at once in this process and within about two seconds in every other one.",
        parameters=[TOOL_ID],
        request=ToolSettingUpdateInputSerializer,
        responses=ToolRegistryOutputSerializer,
    ),
)
class ToolRegistryViewSet(BaseViewSet):
    results_key = "tools"
    lookup_field = "tool_id"
    lookup_value_regex = "[A-Za-z0-9_.:-]{1,64}"
    required_permissions = {"list": "admin_tools", "partial_update": "system_admin"}
    throttle_scope_prefix = "agent.tools_registry"

    def list(self, request):
        return self.paginated(selectors.tool_registry(), ToolRegistryOutputSerializer)

    def partial_update(self, request, tool_id=None):
        tool = tool_by_id(tool_id)  # an unknown tool is 404 whatever the body
        data = self.validated(ToolSettingUpdateInputSerializer, request.data)
        tool_setting_update(tool_id=tool.name, actor=request.user, **data)
        return self.ok(ToolRegistryOutputSerializer(_registry_entry(tool.name)).data, message="Tool updated")


@extend_schema_view(
    list=extend_schema(
        summary="Logged tool calls, newest first (admin_tools): who, when, arguments (secrets redacted), "
        "duration, success",
        description="The log grows without bound, so a page never counts it in full: has_next is exact, total is "
        "exact up to a thousand matching rows and an estimate beyond (total_is_estimate).",
        parameters=filterset_parameters(ToolCallFilter),
        responses=ToolCallOutputSerializer(many=True),
    ),
)
class ToolCallViewSet(BaseViewSet):
    results_key = "calls"
    required_permissions = "admin_tools"
    throttle_scope_prefix = "agent.tools_history"
    pagination_class = EstimatedTotalPagination  # never COUNT(*) the whole log on each page

    def list(self, request):
        return self.paginated(
            selectors.tool_call_list(principal=request.user, params=request.query_params), ToolCallOutputSerializer
        )
