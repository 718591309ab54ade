"""Cross-cutting middleware, sync and async capable (contract §1).

``RequestContextMiddleware``: accepts or generates the request id, puts it (and the client's IP and
user agent) in contextvars for logs and audit rows, echoes ``X-Request-Id``, records request metrics,
writes one access-log line, and turns any non-JSON error page under ``/api/`` (Django's own 404/500
pages, CSRF failures) into the error envelope.

``BodySizeLimitMiddleware``: refuses bodies over ``MAX_REQUEST_BODY_BYTES`` (or the path's own limit) with
413 before they are parsed. A body sent without ``Content-Length`` (chunked) is measured where the server
put it, or copied in chunks to a temporary file (never read into memory), and given its length.

``StaticFilesMiddleware``: WhiteNoise made async-capable, so that under daphne the whole middleware chain
runs on the event loop and async views (health, chat) are not pushed through a thread per request.

Every class here runs natively in both WSGI and ASGI stacks (``sync_capable`` and ``async_capable``).
"""

import logging
import os
import tempfile
import time

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
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
        if getattr(response, "streaming", False):
            # Metrics and the access log cover the whole stream: recorded when it ends (or is abandoned).
            response.streaming_content = _measured(response, request)
        else:
            _record_finished(request, response.status_code, len(response.content))
        # The context vars stay set: streaming bodies and Django's own response logging after this point
        # still see them. ``clear_request_context`` (on request_finished) unsets them once the response is
        # closed, so a thread reused by a WSGI server or the test client starts clean.
        return response

    @staticmethod
    def _as_envelope(response):
        headers = {name: response[name] for name in ("Allow", "Retry-After") if response.has_header(name)}
        return error_response(response.status_code, headers=headers)


def _record_finished(request, status: int, size: int) -> None:
    elapsed_ms = (time.perf_counter() - request._mv_started) * 1000
    metrics.request_finished(status=status, duration_ms=elapsed_ms)
    access_logger.info(
        "%s %s %s %.1fms %dB",
        request.method,
        request.path,
        status,
        elapsed_ms,
        size,
        extra={"status": status, "duration_ms": round(elapsed_ms, 1), "bytes": size},
    )


def _measured(response, request):
    """The response's stream, counted; the request is recorded once, when the stream ends, fails or is
    abandoned (a client that disconnects: the generator is closed). Until then it is an active connection."""
    content = response.streaming_content
    status = response.status_code
    sent = [0]

    if response.is_async:

        async def measured():
            try:
                async for chunk in content:
                    sent[0] += len(chunk)
                    yield chunk
            finally:
                _record_finished(request, status, sent[0])

    else:

        def measured():
            try:
                for chunk in content:
                    sent[0] += len(chunk)
                    yield chunk
            finally:
                _record_finished(request, status, sent[0])

    return measured()


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
            size = self.measure_undeclared_body(request, limit)
            if size is None:
                return self.too_large(limit)
            request.META["CONTENT_LENGTH"] = str(size)  # Django's parsers read only a declared length
        return None

    @staticmethod
    def measure_undeclared_body(request, limit: int) -> int | None:
        """Size of a body sent without ``Content-Length``; ``None`` when it is over ``limit``.

        Under ASGI the server already spooled the body to a temporary file (``request._stream``): seek to
        measure it. Otherwise (WSGI) copy the input to a spooled temporary file in chunks, stopping past the
        limit, and let Django read from that copy.
        """
        stream = request._stream
        if getattr(stream, "seekable", lambda: False)():
            start = stream.tell()
            size = stream.seek(0, os.SEEK_END) - start
            stream.seek(start)
            return size if size <= limit else None
        source = request.META.get("wsgi.input", stream)
        spool = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115
        size = 0
        while chunk := source.read(64 * 1024):
            size += len(chunk)
            if size > limit:
                spool.close()
                return None
            spool.write(chunk)
        spool.seek(0)
        request._stream = spool
        return size

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
