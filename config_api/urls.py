from django.urls import re_path

from majed_vanna.api.routers import ApiRouter

from .views import BackupViewSet, ConfigView, config_test_database_view, config_test_llm_view

router = ApiRouter()
router.register("backups", BackupViewSet, basename="backups")

urlpatterns = [
    re_path(r"^config/?$", ConfigView.as_view(), name="config"),
    re_path(r"^config/test-database/?$", config_test_database_view, name="config-test-database"),
    re_path(r"^config/test-llm/?$", config_test_llm_view, name="config-test-llm"),
    *router.urls,
]
