"""Django-level error handlers: JSON envelopes under /api/, Django's own pages elsewhere (admin)."""

from django.views import defaults

from .api.envelope import error_response


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
