"""Request body limits (BodySizeLimitMiddleware): bodies without Content-Length are measured without being
read into memory, a path's own limit above Django's in-memory cap works, and a 413 carries CORS headers."""

import io

import httpx
import pytest
from django.test import RequestFactory

from majed_vanna.middleware import BodySizeLimitMiddleware

pytestmark = pytest.mark.urls("majed_vanna.tests.urls")

MB = 1024 * 1024


def _chunked_request(body: bytes):
    request = RequestFactory().post("/api/v1/test/validate", data=b"", content_type="application/octet-stream")
    request.META.pop("CONTENT_LENGTH", None)
    request.META["HTTP_TRANSFER_ENCODING"] = "chunked"
    request.META["wsgi.input"] = io.BytesIO(body)
    return request


def test_a_chunked_body_is_measured_and_given_its_length(settings):
    settings.MAX_REQUEST_BODY_BYTES = 2 * MB
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1 * MB  # Django's own in-memory cap is lower than the path's limit
    middleware = BodySizeLimitMiddleware(lambda request: None)
    request = _chunked_request(b"a" * (MB + 10))
    assert middleware.before(request) is None
    assert request.META["CONTENT_LENGTH"] == str(MB + 10)
    assert request._stream.read() == b"a" * (MB + 10)


def test_a_chunked_body_over_the_limit_is_413_naming_the_limit(settings):
    settings.MAX_REQUEST_BODY_BYTES = 1 * MB
    response = BodySizeLimitMiddleware(lambda request: None).before(_chunked_request(b"a" * (MB + 1)))
    assert response.status_code == 413
    assert str(MB) in response.content.decode()


def test_a_413_carries_cors_headers_for_an_allowed_origin(api_client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    body = b"a" * (10 * MB + 1)
    response = api_client.generic(
        "POST", "/api/v1/test/validate", body, content_type="application/json", HTTP_ORIGIN="https://app.example.com"
    )
    assert response.status_code == 413
    assert response["Access-Control-Allow-Origin"] == "https://app.example.com"


@pytest.mark.slow
def test_an_eleven_megabyte_chunked_upload_reaches_a_path_with_a_higher_limit(daphne_server):
    """11 MB sent chunked (no Content-Length) to a path allowed 64 MB: it was a 413 naming the path's own limit,
    because the whole body was read against Django's 10 MB in-memory cap."""
    server = daphne_server(urls_for_tests=True)
    boundary = "mvboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    size = 11 * MB

    def body():
        yield head
        for _ in range(size // MB):
            yield b"z" * MB
        yield f"\r\n--{boundary}--\r\n".encode()

    response = httpx.post(
        server.base_url + "/api/v1/test/upload-size",
        content=body(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        timeout=60,
    )
    assert response.status_code == 201, response.text
    assert response.json()["data"] == {"size": size, "read": size, "spooled": True}
