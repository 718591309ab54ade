"""Views that exist only for the tests: they exercise the common behaviour (envelope, errors, pagination,
throttles, idempotency, async views, circuit breakers) through the real middleware and handlers."""

import asyncio
import threading
import uuid

from asgiref.sync import sync_to_async
from django.http import HttpResponse, StreamingHttpResponse
from rest_framework import serializers

from majed_vanna.api.async_views import ApiResult, async_api_view
from majed_vanna.api.scopes import register_scope
from majed_vanna.api.viewsets import BaseAPIView
from majed_vanna.circuit_breakers import get_breaker

# The idempotency test holds a request here to send its repeat while the first is still running.
slow_create_started = threading.Event()
slow_create_release = threading.Event()

for _scope, _rate in {
    "tests.ok": "50/hour",
    "tests.throttled": "3/hour",
    "tests.user_throttled": "2/hour",
    "tests.async_admin": "5/hour",
}.items():
    register_scope(_scope, _rate)


class OkView(BaseAPIView):
    public = True
    throttle_scopes = {"get": "tests.ok"}

    def get(self, request):
        return self.ok({"hello": "world"}, message="Hello")


class ValidateView(BaseAPIView):
    public = True

    class InputSerializer(serializers.Serializer):
        username = serializers.EmailField()
        age = serializers.IntegerField(min_value=0)

    def post(self, request):
        data = self.validated(self.InputSerializer, request.data)
        return self.created(data)


class BoomView(BaseAPIView):
    public = True

    def get(self, request):
        raise RuntimeError("secret internals: /etc/passwd db.internal:5432")


def django_boom(request):
    raise RuntimeError("secret internals: /etc/passwd db.internal:5432")


def plain_text_405(request):
    from django.http import HttpResponseNotAllowed

    return HttpResponseNotAllowed(["GET"])


class ItemsView(BaseAPIView):
    public = True
    results_key = "items"

    class OutputSerializer(serializers.Serializer):
        number = serializers.IntegerField()

    def get(self, request):
        return self.paginated([{"number": n} for n in range(1, 46)], self.OutputSerializer)


class ThingsView(BaseAPIView):
    """Creates a 'thing' with a one-time secret; ``{"slow": true}`` waits until the test releases it."""

    public = True

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=50)
        slow = serializers.BooleanField(default=False)

    def post(self, request):
        data = self.validated(self.InputSerializer, request.data)
        if data["slow"]:
            slow_create_started.set()
            slow_create_release.wait(timeout=10)
        return self.created({"id": str(uuid.uuid4()), "name": data["name"], "client_secret": uuid.uuid4().hex})


class UploadSizeView(BaseAPIView):
    """Reads the uploaded ``file`` whole and says how much it read (and whether Django spooled it to disk)."""

    public = True

    def post(self, request):
        upload = request.FILES["file"]
        read = sum(len(chunk) for chunk in upload.chunks())
        return self.created({"size": upload.size, "read": read, "spooled": hasattr(upload, "temporary_file_path")})


class ThrottledView(BaseAPIView):
    public = True
    throttle_scopes = {"get": "tests.throttled"}

    def get(self, request):
        return self.ok({"counted": True})


class UserThrottledView(BaseAPIView):
    throttle_scopes = {"get": "tests.user_throttled"}

    def get(self, request):
        return self.ok({"user": str(request.user.pk)})


@async_api_view(methods=["GET", "POST"], permission="system_admin", throttle_scope="tests.async_admin")
async def async_admin(request):
    if request.method == "POST":
        return ApiResult({"id": uuid.uuid4().hex, "api_key": "k-" + uuid.uuid4().hex}, status=201)
    return {"caller": str(request.user.pk), "thread": threading.current_thread().name}


@async_api_view(public=True, throttle_scope="tests.async_boom")
async def async_boom(request):
    raise RuntimeError("secret internals: /etc/passwd db.internal:5432")


@async_api_view(public=True, throttle_scope="tests.async_breaker")
async def async_breaker(request):
    """Calls a fake dependency through the ``test-dependency`` breaker; ``?fail=1`` makes it fail."""
    async with get_breaker("test-dependency").aguard():
        if request.GET.get("fail"):
            raise ConnectionError("dependency down")
    return {"called": True}


@async_api_view(methods=["POST"], public=True, streaming=True, throttle_scope="tests.stream")
async def async_stream(request):
    """Streams ``?parts=N`` chunks of 1,000 bytes, ``?pause=S`` seconds apart."""
    parts, pause = int(request.GET.get("parts", 3)), float(request.GET.get("pause", 0.05))

    async def chunks():
        for _ in range(parts):
            await asyncio.sleep(pause)
            yield b"x" * 1000

    return StreamingHttpResponse(chunks(), content_type="text/event-stream")


@async_api_view(throttle_scope="tests.db_state")
async def async_db_state(request):
    """Whether this request's thread still holds a database connection after the policy ran."""
    from django.db import connection

    return {"connection_open": await sync_to_async(lambda: connection.connection is not None)()}


def plain_ok(request):
    return HttpResponse("plain")
