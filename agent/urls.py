from django.urls import re_path

from majed_vanna.api.routers import ApiRouter

from .api.chat import chat_poll, chat_sse, tools_list
from .api.conversations import ConversationViewSet
from .api.evals import EvalRunViewSet, EvalSetViewSet
from .api.feedback import FeedbackViewSet
from .api.memory import MemoryViewSet
from .api.semantic import (
    SemanticColumnViewSet,
    SemanticMetricViewSet,
    SemanticRelationshipViewSet,
    SemanticSearchView,
    SemanticTableViewSet,
    SemanticTermViewSet,
    semantic_sync_view,
)
from .api.tools_registry import ToolCallViewSet, ToolRegistryViewSet
from .api.views import DataSourceViewSet, data_source_schema_view, data_source_test_view

SOURCE = r"^agent/data-sources/(?P<id>[0-9a-fA-F-]{36})"

router = ApiRouter()
router.register("agent/data-sources", DataSourceViewSet, basename="data-sources")
router.register("agent/conversations", ConversationViewSet, basename="conversations")
router.register("agent/evals/runs", EvalRunViewSet, basename="eval-runs")
router.register("agent/evals", EvalSetViewSet, basename="evals")
router.register("agent/feedback", FeedbackViewSet, basename="feedback")
router.register("agent/memory", MemoryViewSet, basename="memory")
router.register("agent/tools/registry", ToolRegistryViewSet, basename="tools-registry")
router.register("agent/tools/history", ToolCallViewSet, basename="tools-history")
router.register("agent/semantic/tables", SemanticTableViewSet, basename="semantic-tables")
router.register("agent/semantic/columns", SemanticColumnViewSet, basename="semantic-columns")
router.register("agent/semantic/metrics", SemanticMetricViewSet, basename="semantic-metrics")
router.register("agent/semantic/terms", SemanticTermViewSet, basename="semantic-terms")
router.register("agent/semantic/relationships", SemanticRelationshipViewSet, basename="semantic-relationships")

urlpatterns = [
    re_path(r"^agent/chat_sse/?$", chat_sse, name="agent-chat-sse"),
    re_path(r"^agent/chat_poll/?$", chat_poll, name="agent-chat-poll"),
    re_path(r"^agent/tools/?$", tools_list, name="agent-tools"),
    re_path(SOURCE + r"/test/?$", data_source_test_view, name="data-sources-test"),
    re_path(SOURCE + r"/schema/?$", data_source_schema_view, name="data-sources-schema"),
    re_path(r"^agent/semantic/search/?$", SemanticSearchView.as_view(), name="semantic-search"),
    re_path(r"^agent/semantic/sync/?$", semantic_sync_view, name="semantic-sync"),
    *router.urls,
]
