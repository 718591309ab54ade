"""Who is calling: one key per integration client, else per user, else per client IP (contract §3)."""


def caller_key(request) -> str:
    user = getattr(request, "user", None)
    client_id = getattr(user, "integration_client_id", None)
    if client_id:
        return f"client:{client_id}"
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    return f"ip:{getattr(request, 'client_ip', None) or request.META.get('REMOTE_ADDR') or 'unknown'}"
