"""Who is calling: one key per integration client, else per user, else per client IP (contract §3), and the
(id, name) pair that audit rows and "changed by" columns record for a principal."""


def caller_key(request) -> str:
    user = getattr(request, "user", None)
    client_id = getattr(user, "integration_client_id", None)
    if client_id:
        return f"client:{client_id}"
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    return f"ip:{getattr(request, 'client_ip', None) or request.META.get('REMOTE_ADDR') or 'unknown'}"


def principal_identity(principal, *, nobody: str = "") -> tuple[str, str]:
    """(id, name) of a principal: an integration client's public id and name, else a user's id and username.
    ``("", nobody)`` without an authenticated principal (e.g. a scheduled task)."""
    if principal is None or not getattr(principal, "is_authenticated", False):
        return "", nobody
    client_id = getattr(principal, "integration_client_id", None)
    if client_id:
        return str(client_id), getattr(principal, "client_name", "") or ""
    return str(principal.pk), getattr(principal, "username", "") or ""
