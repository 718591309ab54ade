"""Idempotency-Key on POST (contract §6): replay, 422 on another body, 409 while the first runs."""

import threading
import uuid

import pytest
from rest_framework.test import APIClient

from . import views

pytestmark = pytest.mark.urls("majed_vanna.tests.urls")
URL = "/api/v1/test/things"


def post(client, body, key):
    return client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_repeat_replays_status_and_body_without_the_secret(api_client):
    key = str(uuid.uuid4())
    first = post(api_client, {"name": "one"}, key)
    assert first.status_code == 201 and first.json()["data"]["client_secret"]
    again = post(api_client, {"name": "one"}, key)
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["data"]["id"] == first.json()["data"]["id"]
    assert again.json()["data"]["client_secret"] is None
    assert again.json()["request_id"] != first.json()["request_id"]
    assert "Idempotent-Replayed" not in first


def test_without_a_key_every_post_acts(api_client):
    first = api_client.post(URL, {"name": "one"}, format="json")
    second = api_client.post(URL, {"name": "one"}, format="json")
    assert first.json()["data"]["id"] != second.json()["data"]["id"]


def test_same_key_different_body_is_422(api_client):
    key = str(uuid.uuid4())
    post(api_client, {"name": "one"}, key)
    response = post(api_client, {"name": "two"}, key)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_keys_are_per_caller():
    key = str(uuid.uuid4())
    first = post(APIClient(REMOTE_ADDR="10.0.0.1"), {"name": "one"}, key)
    other = post(APIClient(REMOTE_ADDR="10.0.0.2"), {"name": "one"}, key)
    assert "Idempotent-Replayed" not in other
    assert other.json()["data"]["id"] != first.json()["data"]["id"]


def test_failed_request_releases_the_key(api_client):
    key = str(uuid.uuid4())
    assert post(api_client, {"name": ""}, key).status_code == 422
    fixed = post(api_client, {"name": "fixed"}, key)
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed


def test_overlong_key_is_422(api_client):
    response = post(api_client, {"name": "one"}, "k" * 256)
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["error"]["details"]


def test_repeat_while_the_first_is_running_is_409():
    key = str(uuid.uuid4())
    views.slow_create_started.clear()
    views.slow_create_release.clear()
    results = {}
    first = threading.Thread(
        target=lambda: results.update(first=post(APIClient(), {"name": "slow", "slow": True}, key))
    )
    first.start()
    try:
        assert views.slow_create_started.wait(timeout=10), "the first request never started"
        conflict = post(APIClient(), {"name": "slow", "slow": True}, key)
        assert conflict.status_code == 409
        assert conflict.json()["error"]["code"] == "CONFLICT"
        reused = post(APIClient(), {"name": "other"}, key)
        assert reused.status_code == 422
    finally:
        views.slow_create_release.set()
        first.join(timeout=10)
    assert results["first"].status_code == 201
    replay = post(APIClient(), {"name": "slow", "slow": True}, key)
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json()["data"]["id"] == results["first"].json()["data"]["id"]
