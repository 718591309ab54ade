"""URL wiring: the landing page, every app's API under ``/api/v1/`` in the ``api-v1`` namespace (with its
index at ``/api/v1/``), docs, and the admin."""

from django.contrib import admin
from django.urls import include, path, re_path

from .api.docs import RedocView, SchemaView, SwaggerView
from .views import ApiIndexView, home

api_v1 = [
    re_path(r"^$", ApiIndexView.as_view(), name="root"),
    path("", include("accounts.urls")),
    path("", include("integrations.urls")),
    path("", include("config_api.urls")),
    path("", include("agent.urls")),
    path("", include("health.urls")),
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", SwaggerView.as_view(url_name="api-v1:schema"), name="docs"),
    path("redoc/", RedocView.as_view(url_name="api-v1:schema", template_name="majed_vanna/redoc.html"), name="redoc"),
]

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    re_path(r"^api/v1$", ApiIndexView.as_view()),  # the index answers without the trailing slash too
    path("api/v1/", include((api_v1, "api-v1"), namespace="api-v1")),
]

handler400 = "majed_vanna.views.bad_request"
handler403 = "majed_vanna.views.permission_denied"
handler404 = "majed_vanna.views.not_found"
handler500 = "majed_vanna.views.server_error"
