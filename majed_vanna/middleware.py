"""Cross-cutting middleware, sync and async capable (contract §1).

``RequestContextMiddleware``: accepts or generates the request id, puts it (and the client's IP and
user agent) in contextvars for logs and audit rows, echoes ``X-Request-Id``, records request metrics,
writes one access-log line, and turns any non-JSON error page under ``/api/`` (Django's own 404/500
pages, CSRF failures) into the error envelope.

``BodySizeLimitMiddleware``: refuses bodies over ``MAX_REQUEST_BODY_BYTES`` with 413 before they are read.
"""

import logging
import time

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import RequestDataTooBig

from . import metrics
from .api.envelope import error_response, is_json_response
from .request_context import (
    accept_request_id,
    client_ip_from_meta,
    client_ip_var,
    request_id_var,
    user_agent_var,
)

access_logger = logging.getLogger("majed_vanna.access")


class _HybridMiddleware:
    """Base for middleware that runs natively in both WSGI and ASGI stacks."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        early = self.before(request)
        if early is not None:
            return self.after(request, early)
        return self.after(request, self.get_response(request))

    async def __acall__(self, request):
        early = self.before(request)
        if early is not None:
            return self.after(request, early)
        return self.after(request, await self.get_response(request))

    def before(self, request):
        return None

    def after(self, request, response):
        return response


class RequestContextMiddleware(_HybridMiddleware):
    def before(self, request):
        request.request_id = accept_request_id(request.META.get("HTTP_X_REQUEST_ID"))
        request.client_ip = client_ip_from_meta(request.META, settings.TRUSTED_PROXY_COUNT)
        request._mv_started = time.perf_counter()
        request._mv_tokens = (
            request_id_var.set(request.request_id),
            client_ip_var.set(request.client_ip),
            user_agent_var.set(request.META.get("HTTP_USER_AGENT", "")[:512]),
        )
        metrics.request_started()
        return None

    def after(self, request, response):
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not getattr(response, "streaming", False)
            and not is_json_response(response)
        ):
            response = self._as_envelope(response)
        response["X-Request-Id"] = request.request_id
        elapsed_ms = (time.perf_counter() - request._mv_started) * 1000
        metrics.request_finished(status=response.status_code, duration_ms=elapsed_ms)
        access_logger.info(
            "%s %s %s %.1fms",
            request.method,
            request.path,
            response.status_code,
            elapsed_ms,
            extra={"status": response.status_code, "duration_ms": round(elapsed_ms, 1)},
        )
        # The context vars stay set: streaming bodies and logging after this point still see them, and
        # every request runs in its own context (a fresh thread-local context or task context).
        return response

    @staticmethod
    def _as_envelope(response):
        headers = {name: response[name] for name in ("Allow", "Retry-After") if response.has_header(name)}
        return error_response(response.status_code, headers=headers)


class BodySizeLimitMiddleware(_HybridMiddleware):
    def before(self, request):
        limit = self.limit_for(request.path)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(400, message="Invalid Content-Length header")
        if length > limit:
            return self.too_large(limit)
        if not length and request.META.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
            # No declared length: read it now, under Django's own DATA_UPLOAD_MAX_MEMORY_SIZE check.
            try:
                if len(request.body) > limit:
                    return self.too_large(limit)
            except RequestDataTooBig:
                return self.too_large(limit)
        return None

    @staticmethod
    def limit_for(path: str) -> int:
        for prefix, limit in settings.REQUEST_BODY_LIMIT_OVERRIDES.items():
            if path.startswith(prefix):
                return limit
        return settings.MAX_REQUEST_BODY_BYTES

    @staticmethod
    def too_large(limit: int):
        return error_response(413, message=f"Request body is larger than the limit of {limit} bytes")
