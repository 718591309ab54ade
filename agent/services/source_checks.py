"""Checks of a data source's settings beyond their type (contract §5 "Data sources"): the URL's scheme
matches the engine, a sqlite file exists inside the allowed roots (``MV_ALLOWED_PATH_ROOTS``), the limits
lie in sane ranges, the roles are known. Each problem is reported on its own field (422 ``details``)."""

from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

from config_api.validation import allowed_roots, check_data_source_url, data_source_provider, sqlite_path

from ..models.sources import RESULT_BYTES_RANGE, ROW_CAP_RANGE, SOURCE_ROLES, TIMEOUT_MS_RANGE, Engine

RANGES = {
    "statement_timeout_ms": TIMEOUT_MS_RANGE,
    "row_cap": ROW_CAP_RANGE,
    "max_result_bytes": RESULT_BYTES_RANGE,
}
NAME_MAX_LENGTH = 100


def normalised_url(url: str) -> str:
    """A sqlite URL with its path made absolute (relative paths are relative to ``MV_DATA_DIR``), so the
    runners never depend on the data directory; any other URL as it is."""
    if data_source_provider(url) != "sqlite":
        return url
    return f"sqlite:///{sqlite_path(url).resolve()}"  # sqlite:////absolute/path


def check_url(url: str, *, engine: str | None, current: str = "") -> tuple[str, str]:
    """``(normalised url, engine)``; ``ValueError`` with the reason. ``engine`` ``None``: taken from the URL.
    A password sent back masked (``********``) keeps the stored one (``current``)."""
    checked = check_data_source_url(url, current=current)
    provider = data_source_provider(checked)
    if engine is None:
        engine = provider
    elif provider != engine:
        raise ValueError(f"The URL is a {provider} URL but the engine is {engine}: use a matching scheme.")
    if engine == Engine.SQLITE:
        if urlsplit(checked).query:
            raise ValueError("A sqlite URL takes no query string (the server opens the file read-only itself).")
        path = sqlite_path(checked).resolve()
        roots = allowed_roots()
        if not any(path.is_relative_to(root) for root in roots):
            shown = ", ".join(str(root) for root in roots)
            raise ValueError(f"The sqlite file must be inside one of the allowed roots: {shown}.")
        if not path.is_file():
            raise ValueError(f"No sqlite file at {path}.")
        if not _is_sqlite_file(path):
            raise ValueError(f"{path} is not a SQLite database file.")
    return normalised_url(checked), engine


def _is_sqlite_file(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def check_limits(values: dict) -> dict[str, list[str]]:
    errors = {}
    for name, (low, high) in RANGES.items():
        if name in values and not (isinstance(values[name], int) and low <= values[name] <= high):
            errors[name] = [f"Must be between {low} and {high}."]
    return errors


def check_roles(roles) -> list[str]:
    """The roles, de-duplicated in a stable order; ``ValueError`` naming unknown ones."""
    if not isinstance(roles, list | tuple) or not all(isinstance(role, str) for role in roles):
        raise ValueError("A list of role names.")
    unknown = sorted(set(roles) - set(SOURCE_ROLES))
    if unknown:
        raise ValueError(f"Unknown role(s): {', '.join(unknown)}. Allowed: {', '.join(SOURCE_ROLES)}.")
    return [role for role in SOURCE_ROLES if role in roles]


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValueError("This field may not be blank.")
    if len(name) > NAME_MAX_LENGTH:
        raise ValueError(f"At most {NAME_MAX_LENGTH} characters.")
    if any(ord(char) < 32 for char in name):
        raise ValueError("No control characters.")
    return name


def raise_if(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)
