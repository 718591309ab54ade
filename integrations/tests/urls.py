"""Test-only URLs: the project's routes plus small probes that need one permission each, so the
authentication classes can be exercised before the apps that clients call (agent, config) exist."""

from django.urls import path, re_path

from majed_vanna.api.scopes import register_scope
from majed_vanna.api.viewsets import BaseAPIView
from majed_vanna.urls import urlpatterns as project_urlpatterns

register_scope("tests.limited_probe", "3/minute")


class _Probe(BaseAPIView):
    def _describe(self, request, **extra):
        user = request.user
        return {
            "client_id": getattr(user, "integration_client_id", None),
            "role": getattr(user, "role", None),
            "permissions": sorted(getattr(user, "mv_permissions", ())),
            "method": request.method,
            "path": request.path,
            "query": {key: request.query_params.getlist(key) for key in request.query_params},
            **extra,
        }

    def get(self, request, **kwargs):
        return self.ok(self._describe(request, **kwargs))

    def post(self, request, **kwargs):
        files = {name: upload.size for name, upload in request.FILES.items()}
        fields = {key: request.data.get(key) for key in request.data if key not in files}
        return self.ok(self._describe(request, data=fields, files=files, **kwargs))

    put = patch = delete = post


class ChatProbe(_Probe):
    required_permissions = "use_chat"


class ConfigProbe(_Probe):
    required_permissions = "read_config"


class ToolsProbe(_Probe):
    required_permissions = "use_tools"


class ManageProbe(_Probe):
    required_permissions = "manage_integrations"


class PublicProbe(_Probe):
    public = True


class LimitedProbe(_Probe):
    required_permissions = "use_chat"
    throttle_scopes = {"get": "tests.limited_probe"}


urlpatterns = [
    path("api/v1/_probe/chat", ChatProbe.as_view()),
    path("api/v1/_probe/config", ConfigProbe.as_view()),
    path("api/v1/_probe/tools", ToolsProbe.as_view()),
    path("api/v1/_probe/manage", ManageProbe.as_view()),
    path("api/v1/_probe/limited", LimitedProbe.as_view()),
    path("api/v1/_probe/public", PublicProbe.as_view()),
    path("api/v1/_probe/files/<str:name>", ChatProbe.as_view()),
    re_path(r"^$", ChatProbe.as_view()),  # "/" too (the project's landing page): e.g. a path cut at a "#"
    *project_urlpatterns,
    # Any other path reaches a probe too, so a request whose path was altered meets authentication, not a 404.
    re_path(r"", ChatProbe.as_view()),
]
