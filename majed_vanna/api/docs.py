"""The OpenAPI schema and the docs pages (Swagger UI, ReDoc) under the one request policy (contract §1, §3).

They are public (contract: docs at ``/api/v1/schema/``, ``/docs/``, ``/redoc/``) and take no credentials, but
they are throttled per caller like every other endpoint: building the schema costs 0.1-0.4 s of CPU, and as
plain drf-spectacular views anyone could ask for it without limit. ``OPTIONS`` answers 200 with ``Allow``
(DRF's metadata through an HTML template renderer was a 500).
"""

from django.http import HttpResponse
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from .viewsets import EnvelopeAPIMixin

SCHEMA_SCOPE = "api.schema"  # its own rate (``scopes.DEFAULT_RATES``): the expensive one
DOCS_SCOPE = "api.docs"  # the caller's shared default budget


class _PublicDocument(EnvelopeAPIMixin):
    authentication_classes: list = []
    public = True
    idempotent = False

    def options(self, request, *args, **kwargs):
        return HttpResponse(status=200, content_type="text/plain")  # ``Allow`` is added by DRF


class SchemaView(_PublicDocument, SpectacularAPIView):
    throttle_scopes = SCHEMA_SCOPE


class SwaggerView(_PublicDocument, SpectacularSwaggerView):
    throttle_scopes = DOCS_SCOPE


class RedocView(_PublicDocument, SpectacularRedocView):
    throttle_scopes = DOCS_SCOPE
