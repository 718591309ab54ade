"""X-Request-Id (contract §1): a valid client id is kept, anything else replaced; header and envelope
agree; every log line of the request carries it."""

import logging

import pytest

from majed_vanna.request_context import current_request_id

pytestmark = pytest.mark.urls("majed_vanna.tests.urls")


@pytest.mark.parametrize("sent", ["abc-123", "req_0123456789abcdef", "a.b:c_d-e", "x" * 64])
def test_valid_request_id_is_kept(api_client, sent):
    response = api_client.get("/api/v1/test/ok", HTTP_X_REQUEST_ID=sent)
    assert response["X-Request-Id"] == sent
    assert response.json()["request_id"] == sent


@pytest.mark.parametrize("sent", ["x" * 65, "has space", "semi;colon", "<script>", ""])
def test_invalid_request_id_is_replaced(api_client, sent):
    response = api_client.get("/api/v1/test/ok", HTTP_X_REQUEST_ID=sent)
    generated = response["X-Request-Id"]
    assert generated != sent
    assert generated.startswith("req_") and len(generated) <= 64
    assert response.json()["request_id"] == generated


def test_generated_ids_differ_per_request(api_client):
    first = api_client.get("/api/v1/test/ok")["X-Request-Id"]
    second = api_client.get("/api/v1/test/ok")["X-Request-Id"]
    assert first != second


def test_error_responses_echo_the_id(api_client):
    response = api_client.get("/api/v1/nowhere", HTTP_X_REQUEST_ID="err-42")
    assert response["X-Request-Id"] == "err-42"
    assert response.json()["request_id"] == "err-42"


def test_request_id_lands_on_log_records(api_client, caplog):
    caplog.set_level(logging.INFO)
    api_client.get("/api/v1/test/ok", HTTP_X_REQUEST_ID="log-me-1")
    access = [r for r in caplog.records if r.name == "majed_vanna.access"]
    assert access and access[-1].request_id == "log-me-1"
    assert "/api/v1/test/ok" in access[-1].getMessage()


def test_records_outside_a_request_have_a_placeholder_and_the_id_is_cleared_after(api_client, caplog):
    api_client.get("/api/v1/test/ok", HTTP_X_REQUEST_ID="gone-after")
    assert current_request_id() is None
    logging.getLogger("majed_vanna.tests").warning("outside any request")
    assert caplog.records[-1].request_id == "-"


def test_explicit_extra_request_id_still_wins(caplog):
    logging.getLogger("majed_vanna.tests").warning("task line", extra={"request_id": "from-task"})
    assert caplog.records[-1].request_id == "from-task"


def test_json_formatter_of_production_writes_request_id():
    """The production formatter (python-json-logger) with the request-id filter emits one JSON object."""
    import json

    from django.conf import settings
    from pythonjsonlogger.json import JsonFormatter

    from majed_vanna.logging import RequestIdFilter
    from majed_vanna.request_context import request_id_var

    config = settings.LOGGING["formatters"]["json"]
    formatter = JsonFormatter(config["fmt"], rename_fields=config["rename_fields"])
    token = request_id_var.set("json-1")
    try:
        record = logging.getLogger("x").makeRecord("x", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    finally:
        request_id_var.reset(token)
    RequestIdFilter().filter(record)
    line = json.loads(formatter.format(record))
    assert line["request_id"] == "json-1"
    assert line["message"] == "hello world"
    assert line["level"] == "INFO"
