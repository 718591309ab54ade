from django.urls import re_path

from majed_vanna.api.routers import ApiRouter

from .api.conversations import ConversationViewSet
from .api.views import DataSourceViewSet, data_source_schema_view, data_source_test_view

SOURCE = r"^agent/data-sources/(?P<id>[0-9a-fA-F-]{36})"

router = ApiRouter()
router.register("agent/data-sources", DataSourceViewSet, basename="data-sources")
router.register("agent/conversations", ConversationViewSet, basename="conversations")

urlpatterns = [
    re_path(SOURCE + r"/test/?$", data_source_test_view, name="data-sources-test"),
    re_path(SOURCE + r"/schema/?$", data_source_schema_view, name="data-sources-schema"),
    *router.urls,
]
