"""Every response, success or error, is wrapped in the contract §1 envelope, whoever produced it: a view,
DRF, Django's own handlers or the middleware."""

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.urls("majed_vanna.tests.urls")

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
LEAKS = ("secret internals", "/etc/passwd", "db.internal", "RuntimeError", "Traceback")


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"success", "error", "timestamp", "request_id"}
    assert body["success"] is False
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert TIMESTAMP.match(body["timestamp"])
    assert body["request_id"] == response["X-Request-Id"]
    return body


def test_success_envelope(api_client):
    response = api_client.get("/api/v1/test/ok")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"success", "data", "message", "timestamp", "request_id"}
    assert body["success"] is True
    assert body["data"] == {"hello": "world"}
    assert body["message"] == "Hello"
    assert TIMESTAMP.match(body["timestamp"])
    assert body["request_id"] == response["X-Request-Id"]


def test_created_answers_201_with_envelope(api_client):
    response = api_client.post("/api/v1/test/validate", {"username": "a@b.io", "age": 3}, format="json")
    assert response.status_code == 201
    assert response.json()["data"] == {"username": "a@b.io", "age": 3}


def test_unknown_api_path_is_404_envelope(api_client):
    body = assert_error(api_client.get("/api/v1/no-such-thing"), 404, "RESOURCE_NOT_FOUND")
    assert body["error"]["details"] is None


def test_404_envelope_also_with_debug_on(api_client, settings):
    settings.DEBUG = True  # Django's technical 404 page is HTML: the middleware wraps it
    assert_error(api_client.get("/api/v1/no-such-thing"), 404, "RESOURCE_NOT_FOUND")


def test_405_from_drf_view_has_allow_header(api_client):
    response = api_client.delete("/api/v1/test/ok")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response["Allow"]


def test_405_from_plain_django_response_is_wrapped_and_keeps_allow(api_client):
    response = api_client.post("/api/v1/test/plain-405")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response["Allow"] == "GET"


def test_422_has_per_field_details(api_client):
    response = api_client.post("/api/v1/test/validate", {"username": "not-an-email", "age": -1}, format="json")
    body = assert_error(response, 422, "VALIDATION_ERROR")
    assert body["error"]["message"] == "Invalid input parameters"
    assert set(body["error"]["details"]) == {"username", "age"}
    assert body["error"]["details"]["username"] == ["Enter a valid email address."]
    assert all(isinstance(msg, str) for msgs in body["error"]["details"].values() for msg in msgs)


def test_422_for_missing_fields(api_client):
    body = assert_error(api_client.post("/api/v1/test/validate", {}, format="json"), 422, "VALIDATION_ERROR")
    assert body["error"]["details"]["username"] == ["This field is required."]


def test_malformed_json_is_400(api_client):
    response = api_client.post("/api/v1/test/validate", data='{"username": ', content_type="application/json")
    body = assert_error(response, 400, "BAD_REQUEST")
    assert "Expecting" not in body["error"]["message"]  # no parser exception text


def test_unsupported_content_type_is_400(api_client):
    response = api_client.post("/api/v1/test/validate", data="username=a", content_type="text/plain")
    assert_error(response, 400, "BAD_REQUEST")


def test_body_over_10_mb_is_413(api_client):
    body = b'{"username": "' + b"a" * (10 * 1024 * 1024) + b'"}'
    response = api_client.generic("POST", "/api/v1/test/validate", body, content_type="application/json")
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")


def test_body_just_under_the_limit_is_read(api_client):
    padding = 10 * 1024 * 1024 - 100
    body = b'{"username": "a@b.io", "age": 1, "pad": "' + b"a" * padding + b'"}'
    assert len(body) < 10 * 1024 * 1024
    response = api_client.generic("POST", "/api/v1/test/validate", body, content_type="application/json")
    assert response.status_code == 201


def test_429_has_retry_after(api_client):
    for _ in range(3):
        assert api_client.get("/api/v1/test/throttled").status_code == 200
    response = api_client.get("/api/v1/test/throttled")
    assert_error(response, 429, "RATE_LIMIT_EXCEEDED")
    assert 1 <= int(response["Retry-After"]) <= 3600


def test_500_from_drf_view_has_no_exception_text(api_client, caplog):
    response = api_client.get("/api/v1/test/boom", HTTP_X_REQUEST_ID="boom-1")
    body = assert_error(response, 500, "INTERNAL_ERROR")
    assert not any(leak in response.content.decode() for leak in LEAKS)
    assert body["request_id"] == "boom-1"
    # The request id in the envelope finds the full error in the logs.
    logged = [r for r in caplog.records if r.exc_info and getattr(r, "request_id", None) == "boom-1"]
    assert logged, "the 500 is logged with its request id"


def test_500_from_plain_django_view_is_envelope():
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/test/django-boom")
    assert_error(response, 500, "INTERNAL_ERROR")
    assert not any(leak in response.content.decode() for leak in LEAKS)


def test_500_from_async_view_is_envelope(api_client):
    response = api_client.get("/api/v1/test/async-boom")
    assert_error(response, 500, "INTERNAL_ERROR")
    assert not any(leak in response.content.decode() for leak in LEAKS)


def test_401_envelope_names_the_scheme():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = client.get("/api/v1/test/user-throttled")
    assert_error(response, 401, "AUTHENTICATION_FAILED")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_non_api_paths_keep_django_pages(client):
    response = client.get("/not-api/nothing")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")
