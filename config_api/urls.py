from django.urls import re_path

from majed_vanna.api.routers import ApiRouter

from .views import BackupViewSet, ConfigTestDatabaseView, ConfigTestLLMView, ConfigView

router = ApiRouter()
router.register("backups", BackupViewSet, basename="backups")

urlpatterns = [
    re_path(r"^config/?$", ConfigView.as_view(), name="config"),
    re_path(r"^config/test-database/?$", ConfigTestDatabaseView.as_view(), name="config-test-database"),
    re_path(r"^config/test-llm/?$", ConfigTestLLMView.as_view(), name="config-test-llm"),
    *router.urls,
]
