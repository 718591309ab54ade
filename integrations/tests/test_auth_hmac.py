"""Signed requests (HMAC) through the full Django stack (contract §5 "Integration clients")."""

import json
import time

import pytest
import time_machine

from integrations.signing import encode_path, signed_headers

from .conftest import PROBE_URLS, error_of, send_signed

pytestmark = [pytest.mark.urls(PROBE_URLS), pytest.mark.django_db]

CHAT = "/api/v1/_probe/chat"
BODY = json.dumps({"message": "How many orders last week?", "context": {"limit": 5}}).encode()


def assert_refused(response, reason="invalid"):
    reasons = {reason} if isinstance(reason, str) else set(reason)
    status, code, details = error_of(response)
    assert (status, code) == (401, "AUTHENTICATION_FAILED"), response.content
    assert details in [{"reason": item} for item in reasons], response.content


def test_signed_get_with_query_succeeds(make_client, signed):
    issued = make_client(["use_chat"])
    response = signed(issued, "GET", CHAT, query="b=2&a=1&a=0")
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["client_id"] == issued.client.client_id
    assert data["role"] == "integration"
    assert data["permissions"] == ["use_chat"]
    assert data["query"] == {"b": ["2"], "a": ["1", "0"]}


def test_signed_post_with_json_body_succeeds(make_client, signed):
    issued = make_client(["use_chat"])
    response = signed(issued, "POST", CHAT, body=BODY)
    assert response.status_code == 200, response.content
    assert response.json()["data"]["data"] == {"message": "How many orders last week?", "context": {"limit": 5}}


def test_signed_multipart_post_succeeds_and_is_parsed(make_client, client):
    issued = make_client(["use_chat"])
    boundary = "BoUnDaRy"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="upload"; filename="a.csv"\r\n'
        f"Content-Type: text/csv\r\n\r\nid,name\n1,x\n\r\n--{boundary}--\r\n"
    ).encode()
    response = send_signed(
        client, issued, "POST", CHAT, body=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["data"] == {"note": "hello"}
    assert data["files"] == {"upload": len("id,name\n1,x\n")}


@pytest.mark.parametrize(
    "change",
    [
        {"method": "PUT"},
        {"path": "/api/v1/_probe/chaT"},
        {"path": CHAT + "/"},
        {"query": "a=2&b=2"},
        {"query": "a=1&b=2&c="},
        {"body": BODY.replace(b"5", b"6")},
        {"body": BODY + b" "},
    ],
    ids=["method", "path", "trailing-slash", "query-value", "query-extra", "body-byte", "body-extra-byte"],
)
def test_request_differing_from_what_was_signed_is_refused(make_client, client, change):
    issued = make_client(["use_chat"])
    signed_parts = {"method": "POST", "path": CHAT, "query": "a=1&b=2", "body": BODY}
    sent = {**signed_parts, **change}
    assert_refused(send_other_than_signed(client, issued, signed_parts, sent))


def send_other_than_signed(client, issued, signed_parts: dict, sent: dict):
    """Sign ``signed_parts`` (method, path, query, body) and send ``sent`` instead."""
    return send_signed(
        client,
        issued,
        sent["method"],
        sent["path"],
        query=sent["query"],
        body=sent["body"],
        **{f"sign_{part}": value for part, value in signed_parts.items()},
    )


def _substitutions(original: bytes):
    for position in range(len(original)):
        mutated = bytearray(original)
        mutated[position] = ord("Z") if mutated[position] != ord("Z") else ord("Y")
        yield bytes(mutated)


def test_every_single_byte_change_to_method_path_query_or_body_is_refused(make_client, client):
    issued = make_client(["use_chat"])
    signed_parts = {"method": "POST", "path": "/api/v1/_probe/chat/x", "query": "b=2&a=1", "body": b'{"q":"x"}'}
    tried = 0
    for field, original in signed_parts.items():
        raw = original if isinstance(original, bytes) else original.encode()
        for mutated in _substitutions(raw[1:] if field == "path" else raw):  # a path keeps its leading "/"
            value = mutated if field == "body" else ("/" if field == "path" else "") + mutated.decode()
            sent = {**signed_parts, field: value}
            assert_refused(send_other_than_signed(client, issued, signed_parts, sent))
            tried += 1
    assert tried == 4 + 20 + 7 + 9


@pytest.mark.parametrize("header", ["X-Timestamp", "X-Nonce", "X-Signature", "X-Client-Id"])
def test_every_single_byte_change_to_a_header_is_refused(make_client, client, header):
    issued = make_client(["use_chat"])
    for position in range(64 if header == "X-Signature" else 6):
        headers = signed_headers(
            client_id=issued.client.client_id, secret=issued.client_secret, method="GET", path=CHAT
        )
        value = bytearray(headers[header].encode())
        index = -1 - position  # the tail: timestamps keep their magnitude, client ids stay well-formed
        value[index] = ord("1") if value[index] != ord("1") else ord("2")
        headers[header] = value.decode()
        response = client.get(CHAT, headers=headers)
        # A changed timestamp may leave the window: then "expired" is the (truthful) answer.
        assert_refused(response, reason={"invalid", "expired"} if header == "X-Timestamp" else "invalid")


def test_replayed_nonce_is_refused(make_client, client):
    issued = make_client(["use_chat"])
    headers = signed_headers(client_id=issued.client.client_id, secret=issued.client_secret, method="GET", path=CHAT)
    assert client.get(CHAT, headers=headers).status_code == 200
    assert_refused(client.get(CHAT, headers=headers))


def test_nonce_consumed_only_by_a_valid_signature(make_client, client):
    """An attacker without the secret cannot burn a client's nonces."""
    issued = make_client(["use_chat"])
    headers = signed_headers(client_id=issued.client.client_id, secret=issued.client_secret, method="GET", path=CHAT)
    forged = {**headers, "X-Signature": "0" * 64}
    assert_refused(client.get(CHAT, headers=forged))
    assert client.get(CHAT, headers=headers).status_code == 200


@pytest.mark.parametrize("offset, accepted", [(-301, False), (301, False), (-300, True), (300, True)])
def test_timestamp_window_is_300_seconds(make_client, client, offset, accepted):
    issued = make_client(["use_chat"])
    now = 1_900_000_000
    headers = signed_headers(
        client_id=issued.client.client_id,
        secret=issued.client_secret,
        method="GET",
        path=CHAT,
        timestamp=now + offset,
    )
    with time_machine.travel(now, tick=False):
        response = client.get(CHAT, headers=headers)
    if accepted:
        assert response.status_code == 200, response.content
    else:
        assert_refused(response, reason="expired")


def test_real_clock_stale_or_future_timestamps_are_refused(make_client, client):
    """Without a frozen clock (the exact ±300/301 boundary is pinned above); +302 leaves a second of slack
    for the clock ticking between signing and checking."""
    issued = make_client(["use_chat"])
    for offset in (-301, 302, -3600, 10**6):
        headers = signed_headers(
            client_id=issued.client.client_id,
            secret=issued.client_secret,
            method="GET",
            path=CHAT,
            timestamp=int(time.time()) + offset,
        )
        assert_refused(client.get(CHAT, headers=headers), reason="expired")


@pytest.mark.parametrize(
    "missing", ["X-Client-Id", "X-Timestamp", "X-Nonce", "X-Signature"], ids=lambda name: f"without-{name}"
)
def test_incomplete_signature_headers_are_refused_not_ignored(make_client, client, missing):
    issued = make_client(["use_chat"])
    headers = signed_headers(client_id=issued.client.client_id, secret=issued.client_secret, method="GET", path=CHAT)
    del headers[missing]
    assert_refused(client.get(CHAT, headers=headers))


@pytest.mark.parametrize(
    "header, value",
    [
        ("X-Nonce", "short"),
        ("X-Nonce", "x" * 129),
        ("X-Nonce", "has space in it"),
        ("X-Timestamp", "+1900000000"),
        ("X-Timestamp", "1.9e9"),
        ("X-Client-Id", "mvc_' OR 1=1 --"),
        ("X-Signature", "Z" * 64),
    ],
)
def test_malformed_header_values_are_refused(make_client, client, header, value):
    issued = make_client(["use_chat"])
    headers = signed_headers(client_id=issued.client.client_id, secret=issued.client_secret, method="GET", path=CHAT)
    headers[header] = value
    assert_refused(client.get(CHAT, headers=headers))


def test_signature_made_with_another_clients_secret_is_refused(make_client, client):
    issued = make_client(["use_chat"])
    other = make_client(["use_chat"], name="Other")
    headers = signed_headers(client_id=issued.client.client_id, secret=other.client_secret, method="GET", path=CHAT)
    assert_refused(client.get(CHAT, headers=headers))


def test_unknown_client_id_is_refused(db, client):
    headers = signed_headers(client_id="mvc_000000000000000000000000", secret="x", method="GET", path=CHAT)
    assert_refused(client.get(CHAT, headers=headers))


@pytest.mark.parametrize("signed_form", ["decoded", "encoded"])
def test_path_with_non_ascii_and_encoded_characters(make_client, client, signed_form):
    issued = make_client(["use_chat"])
    decoded = "/api/v1/_probe/files/résumé 2026.txt"
    sent = encode_path(decoded)
    assert sent == "/api/v1/_probe/files/r%C3%A9sum%C3%A9%202026.txt"
    sign_path = decoded if signed_form == "decoded" else sent
    response = send_signed(client, issued, "GET", sent, sign_path=sign_path)
    assert response.status_code == 200, response.content
    assert response.json()["data"]["name"] == "résumé 2026.txt"


def test_path_signed_for_a_different_resource_is_refused(make_client, client):
    issued = make_client(["use_chat"])
    response = send_signed(
        client,
        issued,
        "GET",
        encode_path("/api/v1/_probe/files/résumé.txt"),
        sign_path="/api/v1/_probe/files/resume.txt",
    )
    assert_refused(response)


def test_unauthenticated_request_is_401_not_403(db, client):
    response = client.get(CHAT)
    assert error_of(response)[:2] == (401, "AUTHENTICATION_FAILED")


def test_a_replayed_request_does_not_count_as_a_use(make_client, client):
    """``last_used_at`` records uses; a refused replay is not one (it was recorded before the nonce check)."""
    issued = make_client(["use_chat"])
    headers = signed_headers(client_id=issued.client.client_id, secret=issued.client_secret, method="GET", path=CHAT)
    cache_key = f"nonce:{issued.client.client_id}:{headers['X-Nonce']}"
    from django.core.cache import cache

    cache.add(cache_key, 1, timeout=60)  # the nonce was already used (by the original request)
    assert_refused(client.get(CHAT, headers=headers))
    issued.client.refresh_from_db()
    assert issued.client.last_used_at is None


def test_a_second_question_mark_changes_what_was_signed(make_client, client):
    """``/x??limit=10`` reaches the view as a parameter named ``?limit``: it is not the signed ``limit=10``."""
    issued = make_client(["use_chat"])
    headers = signed_headers(
        client_id=issued.client.client_id, secret=issued.client_secret, method="GET", path=f"{CHAT}?limit=10"
    )
    assert_refused(client.get(f"{CHAT}??limit=10", headers=headers))
    assert client.get(f"{CHAT}?limit=10", headers=headers).status_code == 200
