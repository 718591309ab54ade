"""Checks of configuration values that need more than a type: URLs, writable paths inside the allowed roots.

Each check returns the normalised value or raises ``ValueError`` with a message for that field.
"""

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from django.conf import settings

MASK = "********"
DATA_SOURCE_SCHEMES = {"sqlite": "sqlite", "postgres": "postgresql", "postgresql": "postgresql"}
# Query parameters libpq reads a secret from (``?password=``; ``sslpassword``: the client key's passphrase).
SECRET_QUERY_PARAMETERS = frozenset({"password", "sslpassword"})


def _secret_parameter(pair: str) -> bool:
    return unquote(pair.partition("=")[0]).strip().lower() in SECRET_QUERY_PARAMETERS


def _mask_query(query: str) -> str:
    """The query string with the value of every secret parameter replaced by the mask, the rest as written."""
    pairs = query.split("&")
    return "&".join(f"{pair.partition('=')[0]}={MASK}" if _secret_parameter(pair) else pair for pair in pairs)


def mask_url(url: str) -> str:
    """The URL with any password (``user:password@``, or a password in the query string) replaced by
    ``********`` (for responses, audit rows, logs)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "[unparseable URL]"
    if parts.query and any(_secret_parameter(pair) for pair in parts.query.split("&")):
        parts = parts._replace(query=_mask_query(parts.query))
        url = urlunsplit(parts)
    if parts.password is None:
        return url
    userinfo = f"{parts.username or ''}:{MASK}"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{userinfo}@{host}" + (f":{port}" if port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def data_source_provider(url: str) -> str:
    """``sqlite`` or ``postgresql`` for a data source URL (``unknown`` if it cannot be parsed)."""
    try:
        return DATA_SOURCE_SCHEMES.get(urlsplit(url).scheme.lower(), "unknown")
    except ValueError:
        return "unknown"


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///relative`` or ``sqlite:////absolute`` URL; relative to MV_DATA_DIR."""
    path = urlsplit(url).path
    path = path[1:] if path.startswith("/") else path
    candidate = Path(path)
    return candidate if candidate.is_absolute() else Path(settings.DATA_DIR) / candidate


def check_data_source_url(value: str, *, current: str = "") -> str:
    """A sqlite or postgres URL. A password equal to the mask keeps the stored password (so a URL read
    back from ``GET config`` can be sent again unchanged)."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        raise ValueError("Not a valid URL.") from None
    scheme = parts.scheme.lower()
    if scheme not in DATA_SOURCE_SCHEMES:
        raise ValueError("The scheme must be one of sqlite, postgres, postgresql.")
    if parts.query and any(_secret_parameter(pair) for pair in parts.query.split("&")):
        # Masked only where it is written as user:password@host (and kept when sent back masked).
        raise ValueError(
            "No password in the query string (password, sslpassword): it would be shown. Put the login "
            "password in the URL as user:password@host, where it is masked."
        )
    if scheme == "sqlite":
        if not parts.path.strip("/") or parts.netloc:
            raise ValueError("A sqlite URL needs a file path: sqlite:////absolute/path.db or sqlite:///relative.db.")
        return value.strip()
    if not parts.hostname:
        raise ValueError("A PostgreSQL URL needs a host.")
    if not parts.path.strip("/"):
        raise ValueError("A PostgreSQL URL needs a database name.")
    if port is not None and not 0 < port < 65536:
        raise ValueError("The port must be between 1 and 65535.")
    if parts.password == MASK:
        try:
            stored_password = urlsplit(current).password if current else None
        except ValueError:
            stored_password = None
        if stored_password is None:
            raise ValueError("The password is masked; send the real password.")
        netloc = parts.netloc.replace(f":{MASK}@", f":{stored_password}@", 1)
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return value.strip()


def check_http_url(value: str) -> str:
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError("Not a valid URL.") from None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise ValueError("Enter an http:// or https:// URL with a host.")
    if parts.username or parts.password:
        raise ValueError("Credentials do not belong in the URL; set the API key instead.")
    return value.strip().rstrip("/")


def allowed_roots() -> list[Path]:
    return [Path(root).expanduser().resolve() for root in settings.MV_ALLOWED_PATH_ROOTS]


def check_writable_dir(value: str) -> str:
    """An absolute directory inside an allowed root that exists and is writable, or can be created.

    A relative path is taken relative to MV_DATA_DIR. Nothing is created here.
    """
    raw = Path(value.strip()).expanduser()
    path = (raw if raw.is_absolute() else Path(settings.DATA_DIR) / raw).resolve()
    roots = allowed_roots()
    if not any(path == root or path.is_relative_to(root) for root in roots):
        shown = ", ".join(str(root) for root in roots)
        raise ValueError(f"The path must be inside one of the allowed roots: {shown}.")
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ValueError(f"{existing} exists and is not a directory.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"{existing} is not writable by the server.")
    return str(path)
