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


def test_same_key_other_query_string_is_422(api_client):
    key = str(uuid.uuid4())
    assert api_client.post(f"{URL}?mode=a", {"name": "one"}, format="json", HTTP_IDEMPOTENCY_KEY=key).status_code == 201
    response = api_client.post(f"{URL}?mode=b", {"name": "one"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
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


# --- multipart: compared by parsed content, not by bytes (each HTTP library picks a random boundary)


def post_multipart(client, fields: dict, key: str, *, boundary: str, url: str = URL):
    from django.test.client import encode_multipart

    return client.post(
        url,
        data=encode_multipart(boundary, fields),
        content_type=f"multipart/form-data; boundary={boundary}",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def upload(content: bytes, name: str = "report.csv"):
    import io

    handle = io.BytesIO(content)
    handle.name = name
    return handle


def test_multipart_retry_with_another_boundary_is_replayed(api_client):
    key = str(uuid.uuid4())
    first = post_multipart(api_client, {"name": "one", "file": upload(b"a,b\n1,2\n")}, key, boundary="AaB03x")
    assert first.status_code == 201, first.content
    again = post_multipart(api_client, {"file": upload(b"a,b\n1,2\n"), "name": "one"}, key, boundary="zz-9f8e7d")
    assert again.status_code == 201, again.content
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["data"]["id"] == first.json()["data"]["id"]


@pytest.mark.parametrize(
    "changed",
    [
        {"name": "one", "file": upload(b"a,b\n1,3\n")},
        {"name": "one", "file": upload(b"a,b\n1,2\n", name="other.csv")},
        {"name": "two", "file": upload(b"a,b\n1,2\n")},
        {"name": "one", "attachment": upload(b"a,b\n1,2\n")},
        {"name": "one"},
    ],
    ids=["file-content", "file-name", "field-value", "file-field", "no-file"],
)
def test_multipart_with_other_content_under_the_same_key_is_422(api_client, changed):
    key = str(uuid.uuid4())
    first = post_multipart(api_client, {"name": "one", "file": upload(b"a,b\n1,2\n")}, key, boundary="AaB03x")
    assert first.status_code == 201
    response = post_multipart(api_client, changed, key, boundary="AaB03x")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_multipart_file_spooled_to_disk_is_hashed_and_still_read_whole_by_the_view(api_client, settings):
    """Past FILE_UPLOAD_MAX_MEMORY_SIZE the upload goes to a temporary file: hashing it for the fingerprint
    reads it in chunks and leaves it at the start for the view."""
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    content = bytes(range(256)) * 64  # 16 KiB
    key = str(uuid.uuid4())
    url = "/api/v1/test/upload-size"
    first = post_multipart(api_client, {"file": upload(content)}, key, boundary="b1", url=url)
    assert first.status_code == 201, first.content
    assert first.json()["data"] == {"size": len(content), "read": len(content), "spooled": True}
    again = post_multipart(api_client, {"file": upload(content)}, key, boundary="b2", url=url)
    assert again["Idempotent-Replayed"] == "true"
    other = post_multipart(api_client, {"file": upload(content[:-1] + b"!")}, key, boundary="b3", url=url)
    assert other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_malformed_multipart_with_a_key_is_400(api_client):
    response = api_client.post(
        URL,
        data=b'--AaB03x\r\nContent-Disposition: form-data; name="name"\r\n\r\none\r\n--AaB03x--\r\n',
        content_type="multipart/form-data",  # no boundary: cannot be parsed
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BAD_REQUEST"


def test_multipart_to_an_async_view_is_compared_by_content(admin, api_client_for):
    client = api_client_for(admin)
    key = str(uuid.uuid4())
    url = "/api/v1/test/async-admin"
    first = post_multipart(client, {"note": "x", "file": upload(b"payload")}, key, boundary="one", url=url)
    assert first.status_code == 201, first.content
    again = post_multipart(client, {"note": "x", "file": upload(b"payload")}, key, boundary="two", url=url)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["data"]["id"] == first.json()["data"]["id"]
    other = post_multipart(client, {"note": "x", "file": upload(b"payload!")}, key, boundary="three", url=url)
    assert other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    broken = client.post(
        url,
        data=b'--AaB03x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--AaB03x--\r\n',
        content_type="multipart/form-data",  # no boundary: cannot be parsed
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    assert (broken.status_code, broken.json()["error"]["code"]) == (400, "BAD_REQUEST")


def test_json_bodies_still_compare_by_bytes(api_client):
    key = str(uuid.uuid4())
    first = api_client.post(URL, data=b'{"name": "one"}', content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 201
    spaced = api_client.post(URL, data=b'{"name":"one"}', content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)
    assert spaced.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_multipart_repeat_while_the_first_is_running_is_409():
    key = str(uuid.uuid4())
    views.slow_create_started.clear()
    views.slow_create_release.clear()
    results = {}

    def fields():
        return {"name": "slow", "slow": "true", "file": upload(b"x" * 4096)}

    first = threading.Thread(
        target=lambda: results.update(first=post_multipart(APIClient(), fields(), key, boundary="first"))
    )
    first.start()
    try:
        assert views.slow_create_started.wait(timeout=10), "the first request never started"
        conflict = post_multipart(APIClient(), fields(), key, boundary="second")
        assert (conflict.status_code, conflict.json()["error"]["code"]) == (409, "CONFLICT")
        other = post_multipart(APIClient(), {**fields(), "file": upload(b"y" * 4096)}, key, boundary="third")
        assert other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    finally:
        views.slow_create_release.set()
        first.join(timeout=10)
    assert results["first"].status_code == 201
    replay = post_multipart(APIClient(), fields(), key, boundary="fourth")
    assert replay["Idempotent-Replayed"] == "true"


class _ExpiringBetweenAddAndGet:
    """A cache whose stale entry expires just after two requests' ``add`` failed and before their ``get``."""

    def __init__(self, key_prefix="idem:"):
        self.data = {}
        self.barrier = threading.Barrier(2, timeout=5)
        self.first_get = threading.local()
        self.lock = threading.Lock()

    def add(self, key, value, timeout=None):
        with self.lock:
            if key in self.data:
                return False
            self.data[key] = value
            return True

    def get(self, key, default=None):
        if not getattr(self.first_get, "done", False):
            self.first_get.done = True
            self.barrier.wait()  # both requests failed their add
            with self.lock:
                self.data.pop(key, None)  # the stale claim expires now
                seen = self.data.get(key, default)
            self.barrier.wait()  # both have read "nothing there" before either acts on it
            return seen
        with self.lock:
            return self.data.get(key, default)

    def set(self, key, value, timeout=None):
        with self.lock:
            self.data[key] = value

    def delete(self, key):
        with self.lock:
            self.data.pop(key, None)


def test_an_expired_key_is_reclaimed_by_exactly_one_of_two_concurrent_requests(monkeypatch):
    from django.test import RequestFactory

    from majed_vanna.api import idempotency
    from majed_vanna.exceptions import ConflictError

    fake = _ExpiringBetweenAddAndGet()
    monkeypatch.setattr(idempotency, "cache", fake)
    request = RequestFactory().post("/x", data=b"{}", content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    request.client_ip = "10.0.0.1"
    key = "idem:" + __import__("hashlib").sha256(b"ip:10.0.0.1\nk").hexdigest()
    fake.data[key] = {"state": "in_flight", "fingerprint": "stale"}
    outcomes = []

    def attempt():
        try:
            outcomes.append(type(idempotency.begin(request)).__name__)
        except ConflictError:
            outcomes.append("409")

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(outcomes) == ["409", "Claim"]
