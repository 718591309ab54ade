"""Small helpers shared by the accounts tests."""

import itertools
import json

from django.urls import reverse

from accounts.models import AuditLog

LOGIN_URL = reverse("api-v1:auth-login")
REFRESH_URL = reverse("api-v1:auth-refresh")
LOGOUT_URL = reverse("api-v1:auth-logout")
ME_URL = reverse("api-v1:auth-me")
CHANGE_PASSWORD_URL = reverse("api-v1:auth-change-password")
USERS_URL = reverse("api-v1:users-list")
AUDIT_URL = reverse("api-v1:audit-logs-list")

_ip_counter = itertools.count(1)


def fresh_ip() -> str:
    """A new client IP, so tests are not slowed down by the 5/minute per-IP login limit."""
    n = next(_ip_counter)
    return f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"


def user_url(user_or_id, suffix: str = "") -> str:
    user_id = getattr(user_or_id, "pk", user_or_id)
    name = {"": "users-detail", "conversations": "users-conversations", "unlock": "users-unlock"}.get(
        suffix, "users-reset-password"
    )
    return reverse(f"api-v1:{name}", kwargs={"user_id": user_id})


def login(client, username: str, password: str, *, ip: str | None = None, headers: dict | None = None, **extra):
    """POST auth/login; ``extra`` goes into the body, ``headers`` into the WSGI environ."""
    body = {"username": username, "password": password, **extra}
    return client.post(LOGIN_URL, body, format="json", REMOTE_ADDR=ip or fresh_ip(), **(headers or {}))


def bearer(client, access_token: str):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token}")
    return client


def audit_rows(action: str | None = None):
    rows = AuditLog.objects.order_by("id")
    return list(rows.filter(action=action) if action else rows)


def all_audit_text() -> str:
    return json.dumps(list(AuditLog.objects.values()), default=str)
