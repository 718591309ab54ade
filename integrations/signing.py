"""Signed requests for integration clients (contract §5 "Integration clients"): pure functions, no Django.

A client signs every request with its ``client_secret``::

    X-Client-Id:  <client_id>
    X-Timestamp:  <unix seconds>            (the server accepts ±300 s)
    X-Nonce:      <8..128 chars of A-Za-z0-9_->   (each value accepted once)
    X-Signature:  hex(HMAC-SHA256(secret, METHOD\\nPATH\\nSORTED_QUERY\\nTIMESTAMP\\nNONCE\\nSHA256_HEX(BODY)))

- METHOD is upper case. PATH is the path as sent, without the query. Send paths in their normal form: ASCII
  letters, digits, ``-._~/`` as they are and everything else percent-encoded with upper-case hex (what
  :func:`encode_path` returns); the server also accepts a signature over the decoded path.
- SORTED_QUERY is the query's parameters sorted by name then value and form-encoded (``a=1&b=2``; a space is
  ``+``); empty when there is none.
- BODY is the exact bytes sent (empty for a GET); the key is the secret's UTF-8 bytes; the signature is
  lower-case hex.

Example (this module has no dependencies beyond the standard library, so clients can copy it)::

    >>> import json, httpx
    >>> from integrations.signing import signed_headers
    >>> body = json.dumps({"message": "How many orders last week?"}).encode()
    >>> headers = signed_headers(client_id="mvc_...", secret="mvs_...", method="POST",
    ...                          path="/api/v1/agent/chat_poll", body=body)
    >>> httpx.post("http://localhost:7777/api/v1/agent/chat_poll", content=body,
    ...            headers={**headers, "Content-Type": "application/json"})
"""

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

QueryInput = str | Mapping[str, object] | Iterable[tuple[str, object]] | None

HEADER_CLIENT_ID = "X-Client-Id"
HEADER_TIMESTAMP = "X-Timestamp"
HEADER_NONCE = "X-Nonce"
HEADER_SIGNATURE = "X-Signature"
HEADER_API_KEY = "X-API-Key"


def encode_path(path: str) -> str:
    """The normal form of a path: unreserved characters and ``/`` kept, the rest %-encoded (UTF-8)."""
    return quote(path, safe="/", encoding="utf-8")


def query_pairs(query: QueryInput) -> list[tuple[str, str]]:
    """Query parameters as ``(name, value)`` pairs from a query string, a mapping or pairs.

    A query string is read exactly as Django reads it: a leading ``?`` is part of the first name (``??a=1``
    is a parameter named ``?a``), so a signature over ``a=1`` does not cover it."""
    if query is None:
        return []
    if isinstance(query, str | bytes):
        text = query.decode("latin-1") if isinstance(query, bytes) else query
        return parse_qsl(text, keep_blank_values=True)
    items = query.items() if isinstance(query, Mapping) else query
    pairs: list[tuple[str, str]] = []
    for name, value in items:
        values = value if isinstance(value, list | tuple) else [value]
        pairs.extend((str(name), "" if item is None else str(item)) for item in values)
    return pairs


def canonical_query(query: QueryInput) -> str:
    """Parameters sorted by name then value and form-encoded: ``b=2&a=1`` -> ``a=1&b=2``."""
    return urlencode(sorted(query_pairs(query)))


def body_sha256(body: bytes | str | None) -> str:
    if body is None:
        body = b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    return hashlib.sha256(body).hexdigest()


def canonical_request(
    *, method: str, path: str, query: QueryInput, timestamp: str | int, nonce: str, body: bytes | str | None
) -> str:
    """The string that is signed: ``METHOD\\nPATH\\nSORTED_QUERY\\nTIMESTAMP\\nNONCE\\nSHA256_HEX(BODY)``."""
    return "\n".join([method.upper(), path, canonical_query(query), str(timestamp), nonce, body_sha256(body)])


def sign(secret: str, canonical: str) -> str:
    """Lower-case hex HMAC-SHA256 of ``canonical`` keyed with the secret's UTF-8 bytes."""
    return hmac.new(secret.encode("utf-8"), canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def signed_headers(
    *,
    client_id: str,
    secret: str,
    method: str,
    path: str,
    query: QueryInput = None,
    body: bytes | str | None = b"",
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four headers that authenticate one request.

    ``path`` may carry the query (``/api/v1/x?b=2&a=1``); it is then split off, unless ``query`` is given.
    Send the path and query exactly as signed, and the body as the same bytes.
    """
    parts = urlsplit(path)
    if parts.query and query is None:
        query = parts.query
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    nonce = nonce or new_nonce()
    canonical = canonical_request(
        method=method, path=parts.path, query=query, timestamp=timestamp, nonce=nonce, body=body
    )
    return {
        HEADER_CLIENT_ID: client_id,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: sign(secret, canonical),
    }
