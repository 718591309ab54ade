"""Who is calling: one key per integration client, else per user, else per client IP (contract §3), and the
(id, name) pair that audit rows and "changed by" columns record for a principal."""


def caller_key(request) -> str:
    user = getattr(request, "user", None)
    client_id = getattr(user, "integration_client_id", None)
    if client_id:
        return f"client:{client_id}"
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    return f"ip:{client_ip_of(request) or 'unknown'}"


def client_ip_of(request) -> str | None:
    """The request's client address as the core middleware resolved it (``None``: not known). A request that
    did not pass the middleware (a bare ``HttpRequest``) is resolved here by the same rule, never by taking
    ``REMOTE_ADDR`` as it is."""
    if hasattr(request, "client_ip"):
        return request.client_ip
    from django.conf import settings

    from majed_vanna.request_context import client_ip_from_meta

    return client_ip_from_meta(request.META, settings.TRUSTED_PROXY_COUNT)


def principal_identity(principal, *, nobody: str = "") -> tuple[str, str]:
    """(id, name) of a principal: an integration client's public id and name, else a user's id and username.
    ``("", nobody)`` without an authenticated principal (e.g. a scheduled task)."""
    if principal is None or not getattr(principal, "is_authenticated", False):
        return "", nobody
    client_id = getattr(principal, "integration_client_id", None)
    if client_id:
        return str(client_id), getattr(principal, "client_name", "") or ""
    return str(principal.pk), getattr(principal, "username", "") or ""
