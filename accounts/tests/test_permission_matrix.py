"""Every accounts endpoint x every kind of caller, with the expected answer for each cell.

Callers: anonymous, normal, superuser, admin, locked (a normal user whose login is locked out but who
holds a token from before), mcp (a normal user who must change their password).

Expected: an HTTP status, or "PCR" for 403 PASSWORD_CHANGE_REQUIRED. Rules behind the cells:
- 401 without credentials; 403 PERMISSION_DENIED when the caller lacks the permission for the endpoint
  (contract §4) or may see the target but not do this to it (own role, self delete/reset);
- 404 when the target is a user the caller may not see (never reveal existence): normal users see only
  themselves, superusers see normal users and themselves;
- a lockout only affects logging in: existing tokens keep working (otherwise anyone could end a user's
  session by typing wrong passwords);
- must-change-password users may only use me, change-password, refresh and logout.
"""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import lockout, tokens
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.helpers import (
    AUDIT_URL,
    CHANGE_PASSWORD_URL,
    LOGIN_URL,
    LOGOUT_URL,
    ME_URL,
    REFRESH_URL,
    USERS_URL,
    fresh_ip,
    user_url,
)

CALLERS = ["anonymous", "normal", "superuser", "admin", "locked", "mcp"]
PCR = "PCR"
NEW_PASSWORD = "matrix-new-password-77"

# name: (method, path, body, expected per caller in CALLERS order)
# In paths and bodies: {self} is the caller, {normal}/{superuser}/{admin} another user of that role.
MATRIX = {
    "login": ("post", LOGIN_URL, "credentials", (401, 200, 200, 200, 429, 200)),
    "refresh": ("post", REFRESH_URL, "refresh", (401, 200, 200, 200, 200, 200)),
    "logout": ("post", LOGOUT_URL, "refresh", (401, 200, 200, 200, 200, 200)),
    "me": ("get", ME_URL, None, (401, 200, 200, 200, 200, 200)),
    "change-password": ("post", CHANGE_PASSWORD_URL, "change", (401, 200, 200, 200, 200, 200)),
    "list users": ("get", USERS_URL, None, (401, 403, 200, 200, 403, PCR)),
    "create normal": ("post", USERS_URL, {"role": "normal"}, (401, 403, 201, 201, 403, PCR)),
    "create superuser": ("post", USERS_URL, {"role": "superuser"}, (401, 403, 403, 201, 403, PCR)),
    "create admin": ("post", USERS_URL, {"role": "admin"}, (401, 403, 403, 201, 403, PCR)),
    "get self": ("get", "{self}", None, (401, 200, 200, 200, 200, PCR)),
    "get normal": ("get", "{normal}", None, (401, 404, 200, 200, 404, PCR)),
    "get superuser": ("get", "{superuser}", None, (401, 404, 404, 200, 404, PCR)),
    "get admin": ("get", "{admin}", None, (401, 404, 404, 200, 404, PCR)),
    "get unknown": ("get", "{unknown}", None, (401, 404, 404, 404, 404, PCR)),
    "patch self username": ("patch", "{self}", {"username": "renamed@example.com"}, (401, 200, 200, 200, 200, PCR)),
    "patch self role admin": ("patch", "{self}", {"role": "admin"}, (401, 403, 403, 200, 403, PCR)),
    "patch self inactive": ("patch", "{self}", {"active": False}, (401, 403, 403, 403, 403, PCR)),
    "patch normal": ("patch", "{normal}", {"must_change_password": True}, (401, 404, 200, 200, 404, PCR)),
    "patch normal inactive": ("patch", "{normal}", {"active": False}, (401, 404, 403, 200, 404, PCR)),
    "patch normal to admin": ("patch", "{normal}", {"role": "admin"}, (401, 404, 403, 200, 404, PCR)),
    "put normal": ("put", "{normal}", "full", (401, 404, 200, 200, 404, PCR)),
    "patch superuser": ("patch", "{superuser}", {"active": False}, (401, 404, 404, 200, 404, PCR)),
    "patch admin": ("patch", "{admin}", {"active": False}, (401, 404, 404, 200, 404, PCR)),
    "delete self": ("delete", "{self}", None, (401, 403, 403, 403, 403, PCR)),
    "delete normal": ("delete", "{normal}", None, (401, 403, 403, 200, 403, PCR)),
    "delete admin": ("delete", "{admin}", None, (401, 403, 403, 200, 403, PCR)),
    "conversations self": ("get", "{self}/conversations", None, (401, 200, 200, 200, 200, PCR)),
    "conversations normal": ("get", "{normal}/conversations", None, (401, 404, 200, 200, 404, PCR)),
    "conversations admin": ("get", "{admin}/conversations", None, (401, 404, 404, 200, 404, PCR)),
    "unlock self": ("post", "{self}/unlock", None, (401, 403, 200, 200, 403, PCR)),
    "unlock normal": ("post", "{normal}/unlock", None, (401, 403, 200, 200, 403, PCR)),
    "unlock admin": ("post", "{admin}/unlock", None, (401, 403, 404, 200, 403, PCR)),
    "reset-password self": ("post", "{self}/reset-password", None, (401, 403, 403, 403, 403, PCR)),
    "reset-password normal": ("post", "{normal}/reset-password", None, (401, 403, 200, 200, 403, PCR)),
    "reset-password superuser": ("post", "{superuser}/reset-password", None, (401, 403, 404, 200, 403, PCR)),
    "audit-logs": ("get", AUDIT_URL, None, (401, 403, 403, 200, 403, PCR)),
}

CODES = {
    401: "AUTHENTICATION_FAILED",
    403: "PERMISSION_DENIED",
    PCR: "PASSWORD_CHANGE_REQUIRED",
    404: "RESOURCE_NOT_FOUND",
    429: "ACCOUNT_LOCKED",
}


def _make_caller(kind: str):
    """(user or None, pair or None, APIClient)."""
    client = APIClient(REMOTE_ADDR=fresh_ip())
    if kind == "anonymous":
        return None, None, client
    role = kind if kind in ("superuser", "admin") else "normal"
    user = UserFactory(role=role, must_change_password=(kind == "mcp"))
    pair = tokens.issue_token_pair(user=user)
    if kind == "locked":
        for _ in range(5):
            lockout.register_failure(user.username)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access_token}")
    return user, pair, client


def _path(template: str, me, others: dict) -> str:
    if not template.startswith("{"):
        return template
    target, _, suffix = template[1:].partition("}")
    target_id = "00000000-0000-0000-0000-00000000beef" if target == "unknown" else None
    if target == "self":
        target_id = me.pk if me else "00000000-0000-0000-0000-000000000001"
    elif target_id is None:
        target_id = others[target].pk
    return user_url(target_id, suffix.lstrip("/"))


def _body(spec, me, pair, path: str, client):
    if spec == "credentials":
        username = me.username if me else "nobody@example.com"
        return {"username": username, "password": DEFAULT_PASSWORD}
    if spec == "refresh":
        return {"refresh_token": pair.refresh_token if pair else "not-a-token"}
    if spec == "change":
        return {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
    if spec == "full":
        return {"username": "put-target@example.com", "role": "normal", "active": True, "must_change_password": True}
    if isinstance(spec, dict) and path == USERS_URL:
        return {"username": "created@example.com", "password": "created-password-123", **spec}
    return spec


CELLS = [
    pytest.param(name, kind, expected[index], id=f"{name} | {kind}")
    for name, (_, _, _, expected) in MATRIX.items()
    for index, kind in enumerate(CALLERS)
]


@pytest.mark.django_db
@pytest.mark.parametrize(("endpoint", "caller", "expected"), CELLS)
def test_permission_matrix(endpoint, caller, expected):
    method, template, spec, _ = MATRIX[endpoint]
    others = {role: UserFactory(role=role) for role in ("normal", "superuser", "admin")}
    me, pair, client = _make_caller(caller)
    path = _path(template, me, others)
    body = _body(spec, me, pair, path, client)
    response = getattr(client, method)(path, body, format="json") if body is not None else getattr(client, method)(path)
    status = 403 if expected == PCR else expected
    payload = response.json()
    assert response.status_code == status, payload
    if status >= 400:
        assert payload["success"] is False
        assert payload["error"]["code"] == CODES[expected]
    else:
        assert payload["success"] is True


def test_the_matrix_covers_every_accounts_route():
    """A new accounts route must get a row here."""
    covered = {reverse(f"api-v1:{name}") for name in ("auth-login", "auth-refresh", "auth-logout", "auth-me")}
    covered |= {CHANGE_PASSWORD_URL, USERS_URL, AUDIT_URL}
    from accounts.urls import urlpatterns

    names = {pattern.name for pattern in urlpatterns}
    assert names == {
        "auth-login",
        "auth-refresh",
        "auth-logout",
        "auth-me",
        "auth-change-password",
        "users-list",
        "users-detail",
        "users-conversations",
        "users-unlock",
        "users-reset-password",
        "audit-logs-list",
    }
    templates = {template for _, template, _, _ in MATRIX.values()}
    assert covered <= templates
    assert {"{self}", "{self}/conversations", "{self}/unlock", "{self}/reset-password"} <= templates
    methods = {(m, t.split("/")[0] if t.startswith("{") else t) for m, t, _, _ in MATRIX.values()}
    assert {("get", "{self}"), ("put", "{normal}"), ("patch", "{self}"), ("delete", "{self}")} <= methods
