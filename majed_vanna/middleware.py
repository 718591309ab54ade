"""Cross-cutting middleware, sync and async capable (contract §1).

``RequestContextMiddleware``: accepts or generates the request id, puts it (and the client's IP and
user agent) in contextvars for logs and audit rows, echoes ``X-Request-Id``, records request metrics,
writes one access-log line, and turns any non-JSON error page under ``/api/`` (Django's own 404/500
pages, CSRF failures) into the error envelope.

``BodySizeLimitMiddleware``: refuses bodies over ``MAX_REQUEST_BODY_BYTES`` with 413 before they are read.

``StaticFilesMiddleware``: WhiteNoise made async-capable, so that under daphne the whole middleware chain
runs on the event loop and async views (health, chat) are not pushed through a thread per request.

Every class here runs natively in both WSGI and ASGI stacks (``sync_capable`` and ``async_capable``).
"""

import logging
import time

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from whitenoise.middleware import WhiteNoiseMiddleware

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
            # NUL bytes cannot be stored in PostgreSQL text (audit rows); some servers pass them through.
            user_agent_var.set(request.META.get("HTTP_USER_AGENT", "").replace("\x00", "")[:512]),
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
        rate_state = getattr(request, "_rate_state", None)  # set by the throttles (contract §3)
        if rate_state is not None and not response.has_header("X-RateLimit-Limit"):
            for name, value in rate_state.headers().items():
                response[name] = value
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
        # The context vars stay set: streaming bodies and Django's own response logging after this point
        # still see them. ``clear_request_context`` (on request_finished) unsets them once the response is
        # closed, so a thread reused by a WSGI server or the test client starts clean.
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


def clear_request_context(**kwargs) -> None:
    """``request_finished`` receiver: forget the finished request's id, IP and user agent in this context."""
    request_id_var.set(None)
    client_ip_var.set(None)
    user_agent_var.set(None)


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise (static files, admin CSS) that also runs natively on the ASGI event loop.

    WhiteNoise's own middleware is sync-only; one sync middleware makes Django run the rest of the chain and
    every async view through ``async_to_sync`` in a worker thread.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response=None, settings=settings):
        super().__init__(get_response, settings)
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        return super().__call__(request)

    async def __acall__(self, request):
        if self.autorefresh:
            static_file = await sync_to_async(self.find_file, thread_sensitive=False)(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is not None:
            return await sync_to_async(self.serve, thread_sensitive=False)(static_file, request)
        return await self.get_response(request)
