"""``integrations.signing``: the canonical string and signature clients must reproduce (contract §5)."""

import hashlib
import hmac

from integrations.signing import canonical_query, canonical_request, encode_path, sign, signed_headers


def test_canonical_request_layout_and_known_signature():
    body = b'{"message":"hi"}'
    canonical = canonical_request(
        method="post",
        path="/api/v1/agent/chat_poll",
        query="b=2&a=1",
        timestamp=1700000000,
        nonce="n0nce-123",
        body=body,
    )
    assert canonical == "\n".join(
        ["POST", "/api/v1/agent/chat_poll", "a=1&b=2", "1700000000", "n0nce-123", hashlib.sha256(body).hexdigest()]
    )
    expected = hmac.new(b"mvs_secret", canonical.encode(), hashlib.sha256).hexdigest()
    assert sign("mvs_secret", canonical) == expected == expected.lower()


def test_empty_body_and_query():
    canonical = canonical_request(method="GET", path="/x", query=None, timestamp="1", nonce="abcdefgh", body=b"")
    assert canonical.split("\n")[2] == ""
    assert canonical.endswith("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


def test_query_is_sorted_by_name_then_value_and_form_encoded():
    assert canonical_query("b=2&a=2&a=1") == "a=1&a=2&b=2"
    assert canonical_query({"q": "orders last week", "tag": ["z", "a"]}) == "q=orders+last+week&tag=a&tag=z"
    assert canonical_query([("x", "é/&=")]) == "x=%C3%A9%2F%26%3D"
    assert canonical_query("flag&empty=") == "empty=&flag="
    # As Django reads a query string: a leading "?" belongs to the first name (a request sent as "/x??flag").
    assert canonical_query("?flag") == "%3Fflag="
    assert canonical_query("") == canonical_query(None) == ""


def test_encode_path_normal_form():
    assert encode_path("/api/v1/files/résumé 2026.txt") == "/api/v1/files/r%C3%A9sum%C3%A9%202026.txt"
    assert encode_path("/api/v1/a-b_c.d~e") == "/api/v1/a-b_c.d~e"


def test_signed_headers_split_a_query_off_the_path():
    with_query = signed_headers(
        client_id="mvc_1", secret="s", method="GET", path="/x?b=2&a=1", timestamp=5, nonce="abcdefgh"
    )
    explicit = signed_headers(
        client_id="mvc_1", secret="s", method="GET", path="/x", query="a=1&b=2", timestamp=5, nonce="abcdefgh"
    )
    assert with_query == explicit
    assert set(with_query) == {"X-Client-Id", "X-Timestamp", "X-Nonce", "X-Signature"}


def test_fresh_nonce_and_current_timestamp_by_default():
    first = signed_headers(client_id="c", secret="s", method="GET", path="/x")
    second = signed_headers(client_id="c", secret="s", method="GET", path="/x")
    assert first["X-Nonce"] != second["X-Nonce"] and 8 <= len(first["X-Nonce"]) <= 128
    assert first["X-Timestamp"].isdigit()
