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


def ip_or_none(value) -> str | None:
    """``value`` as a normalized IP address, or ``None`` when it is not a plain one (``host:port``, a zone id
    such as ``fe80::1%eth0``, which PostgreSQL's ``inet`` cannot hold, brackets, garbage)."""
    if not isinstance(value, str):
        return None
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    return None if getattr(address, "scope_id", None) else str(address)


def client_ip_from_meta(meta: dict, trusted_proxy_count: int) -> str | None:
    """The client's address by ``trusted_proxy_count`` alone (contract §3); ``None`` when it is not known.

    With no trusted proxy the client is the socket peer. With N, it is the N-th ``X-Forwarded-For`` entry from
    the right (the leftmost when there are fewer), or the peer when that entry is not an IP address.

    A peer that is not an IP address is no address (``None``: never an audit row's address or a 500 from
    PostgreSQL's ``inet``). The peer is the real socket peer: ``majed_vanna.daphne_hardening`` keeps daphne's
    ``--proxy-headers`` from replacing it with a forwarded entry the client may have written. (A peer that a
    forwarded entry names is still the peer: a client naming its own address must not thereby drop out of the
    audit log.)
    """
    forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    peer = ip_or_none(meta.get("REMOTE_ADDR"))
    if trusted_proxy_count <= 0:
        return peer
    if len(forwarded) >= trusted_proxy_count:
        candidate = forwarded[-trusted_proxy_count]
    else:
        candidate = forwarded[0] if forwarded else None
    return ip_or_none(candidate) or peer
