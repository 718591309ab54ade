"""Per-request context kept in contextvars (safe for both threads and coroutines)."""

import ipaddress
import re
import uuid
from contextvars import ContextVar

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
client_ip_var: ContextVar[str | None] = ContextVar("client_ip", default=None)
user_agent_var: ContextVar[str | None] = ContextVar("user_agent", default=None)


def new_request_id() -> str:
    return f"req_{uuid.uuid4().hex}"


def accept_request_id(candidate: str | None) -> str:
    """A valid client ``X-Request-Id`` (<=64 chars of ``[A-Za-z0-9._:-]``) is kept; anything else is replaced."""
    if candidate and _REQUEST_ID_RE.match(candidate):
        return candidate
    return new_request_id()


def current_request_id() -> str | None:
    return request_id_var.get()


def client_ip_from_meta(meta: dict, trusted_proxy_count: int) -> str | None:
    """The socket peer, unless ``trusted_proxy_count`` reverse proxies put the client in X-Forwarded-For.

    With N trusted proxies the client is the N-th entry from the right (contract §3). An entry that is not a
    plain IP address (``host:port``, garbage) is not used: the peer is, so audit rows (an ``inet`` column on
    PostgreSQL) and rate-limit keys only ever hold an address.
    """
    peer = meta.get("REMOTE_ADDR")
    if trusted_proxy_count <= 0:
        return peer
    forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) >= trusted_proxy_count:
        candidate = forwarded[-trusted_proxy_count]
    else:
        candidate = forwarded[0] if forwarded else peer
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return peer
    return peer if getattr(address, "scope_id", None) else str(address)  # PostgreSQL's inet has no zone ids
