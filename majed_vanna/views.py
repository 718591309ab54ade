"""Project-level views: the landing page (``/``), the API index (``/api/v1/``) and Django-level error
handlers (JSON envelopes under /api/, Django's own pages elsewhere, e.g. the admin)."""

from django.conf import settings
from django.shortcuts import render
from django.views import defaults
from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from .api.envelope import error_response
from .api.viewsets import BaseAPIView
from .entry_points import api_entry_points


def home(request):
    """``/``: where to go from here (API docs, ReDoc, the API index, the admin, health)."""
    return render(request, "majed_vanna/home.html", {"version": settings.VERSION})


class ApiIndexOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.CharField()
    entry_points = serializers.DictField(
        child=serializers.URLField(),
        help_text="Route name -> absolute URL of every API route that takes no id, read from the URL configuration",
    )


class ApiIndexView(BaseAPIView):
    """``GET /api/v1/``: the API's entry points, public (the schema and docs are public too)."""

    authentication_classes = []
    public = True
    throttle_scopes = "api.index"

    @extend_schema(
        tags=["api"],
        responses={200: ApiIndexOutputSerializer},
        auth=[],
        summary="API index: the entry points of this API",
        description="Names and absolute URLs of every route that needs no id (list endpoints, auth, configuration, "
        "health, schema and docs). Routes that act on one object are reached from these.",
    )
    def get(self, request):
        entry_points = {name: request.build_absolute_uri(path) for name, path in api_entry_points().items()}
        title = settings.SPECTACULAR_SETTINGS["TITLE"]
        return self.ok({"name": title, "version": settings.VERSION, "entry_points": entry_points}, "API entry points")


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, exception=None):
    return error_response(400) if _is_api(request) else defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    return error_response(403) if _is_api(request) else defaults.permission_denied(request, exception)


def not_found(request, exception=None):
    return error_response(404) if _is_api(request) else defaults.page_not_found(request, exception)


def server_error(request):
    return error_response(500) if _is_api(request) else defaults.server_error(request)
