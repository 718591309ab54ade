"""URL wiring: every app's API under ``/api/v1/`` in the ``api-v1`` namespace, docs, and the admin."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

api_v1 = [
    path("", include("accounts.urls")),
    path("", include("integrations.urls")),
    path("", include("config_api.urls")),
    path("", include("agent.urls")),
    path("", include("health.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-v1:schema"), name="docs"),
    path(
        "redoc/",
        SpectacularRedocView.as_view(url_name="api-v1:schema", template_name="majed_vanna/redoc.html"),
        name="redoc",
    ),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api-v1"), namespace="api-v1")),
]

handler400 = "majed_vanna.views.bad_request"
handler403 = "majed_vanna.views.permission_denied"
handler404 = "majed_vanna.views.not_found"
handler500 = "majed_vanna.views.server_error"
