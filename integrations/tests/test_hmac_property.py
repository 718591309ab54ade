"""Property: a signed request changed in any one part after signing is always refused with 401.

Each example signs a fresh request (fresh nonce, current time), applies one random mutation -- a byte flip,
insertion or deletion in the path, query, body, timestamp, nonce, signature or client id, or a different
method -- and sends the changed request. The original is never sent, so no refusal comes from a replay.

Method mutations pick another method: Django upper-cases the method, so a case flip is the same request.
Query mutations change one parameter's name or value: SORTED_QUERY is defined over the parameters, so
re-ordering them or adding an empty ``&`` is, by contract, the same request (see ``test_auth_hmac`` for
byte-level substitutions in the raw query).
"""

import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.signing import signed_headers

from .conftest import PROBE_URLS

pytestmark = [pytest.mark.urls(PROBE_URLS), pytest.mark.django_db]

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
PATH = "/api/v1/_probe/chat/reports/2026"
QUERY = [("limit", "10"), ("order", "desc"), ("q", "orders last week")]
BODY = json.dumps({"message": "How many orders last week?", "context": {"region": "EMEA"}}).encode()
TEXT_FIELDS = ["path", "timestamp", "nonce", "signature", "client_id"]


def _edit(value: bytes, kind: str, position: int, byte: int, printable: bool = False) -> bytes:
    """One edit that always changes ``value``. ``printable`` keeps it within visible ASCII (0x21-0x7e), as
    header values and paths travel as text."""
    data = bytearray(value)
    if kind == "insert":
        data.insert(position % (len(data) + 1), 0x21 + byte % 94 if printable else byte)
        return bytes(data)
    index = position % len(data)
    if kind == "delete":
        del data[index]
    elif printable:  # shift within the 94 visible characters by 1..93: never the same character
        data[index] = 0x21 + (data[index] - 0x21 + 1 + byte % 93) % 94
    else:
        data[index] ^= byte or 1  # xor with a non-zero value always changes the byte
    return bytes(data)


mutations = st.tuples(
    st.sampled_from(["method", "query", "body", *TEXT_FIELDS]),
    st.sampled_from(["flip", "insert", "delete"]),
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=0, max_value=255),
    st.sampled_from(METHODS),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=mutations)
def test_any_mutation_of_a_signed_request_is_refused(make_client, client, mutation):
    field, kind, position, byte, other_method = mutation
    issued = make_client(["use_chat"])
    method, path, query, body = "POST", PATH, list(QUERY), BODY
    headers = signed_headers(
        client_id=issued.client.client_id, secret=issued.client_secret, method=method, path=path, query=query, body=body
    )
    values = {
        "timestamp": headers["X-Timestamp"],
        "nonce": headers["X-Nonce"],
        "signature": headers["X-Signature"],
        "client_id": headers["X-Client-Id"],
        "path": path,
    }
    if field == "method":
        method = other_method if other_method != method else "GET"
    elif field == "body":
        body = _edit(body, kind, position, byte)
    elif field == "query":
        index = position % len(query)
        name, value = query[index]
        which = position // len(query) % 2
        edited = _edit((name if which == 0 else value).encode(), kind, position // 2, byte, printable=True).decode()
        query[index] = (edited, value) if which == 0 else (name, edited)
    elif field == "path":  # the leading "/" stays: a request line needs it
        values["path"] = "/" + _edit(path[1:].encode(), kind, position, byte, printable=True).decode()
    else:
        values[field] = _edit(values[field].encode(), kind, position, byte, printable=True).decode()

    sent_headers = {
        "X-Client-Id": values["client_id"],
        "X-Timestamp": values["timestamp"],
        "X-Nonce": values["nonce"],
        "X-Signature": values["signature"],
    }
    url = values["path"] + "?" + urlencode(query)
    response = client.generic(method, url, data=body, content_type="application/json", headers=sent_headers)
    assert response.status_code == 401, (mutation, response.content)
    assert response.json()["error"]["code"] == "AUTHENTICATION_FAILED"
    assert response.json()["error"]["details"]["reason"] in {"invalid", "expired"}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.binary(max_size=512),
    # "format" is DRF's format override (an unknown value is a 404), so it is left out of the control.
    query=st.lists(st.tuples(st.text(max_size=8).filter(lambda n: n != "format"), st.text(max_size=8)), max_size=4),
)
def test_unmutated_signed_requests_with_arbitrary_bodies_and_queries_succeed(make_client, client, body, query):
    """The control: without a mutation the same construction is accepted, so the refusals above are real."""
    issued = make_client(["use_chat"])
    headers = signed_headers(
        client_id=issued.client.client_id, secret=issued.client_secret, method="GET", path=PATH, query=query, body=body
    )
    url = PATH + ("?" + urlencode(query) if query else "")
    response = client.generic("GET", url, data=body, content_type="application/octet-stream", headers=headers)
    assert response.status_code == 200, (body, query, response.content)
