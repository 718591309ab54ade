"""The accounts endpoints x every role, on every kind of target, with the expected answer for each cell: the
object-level rules of contract §4 that only this app knows.

What every route shares (401 anonymous, 403 PASSWORD_CHANGE_REQUIRED, 403 for integration clients, the envelope,
that each route is covered at all) is checked for every app by ``majed_vanna/tests/test_endpoints.py`` from
``accounts/tests/endpoints.py``.

Callers: normal, superuser, admin, locked (a normal user whose login is locked out but who holds a token from
before). Rules behind the cells:
- 403 PERMISSION_DENIED when the caller lacks the permission for the endpoint or may see the target but not do
  this to it (own role, self delete/reset);
- 404 when the target is a user the caller may not see (never reveal existence): normal users see only
  themselves, superusers see normal users and themselves;
- a lockout only affects logging in: existing tokens keep working (otherwise anyone could end a user's
  session by typing wrong passwords).
"""

import pytest
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

CALLERS = ["normal", "superuser", "admin", "locked"]
NEW_PASSWORD = "matrix-new-password-77"

# name: (method, path, body, expected per caller in CALLERS order)
# In paths and bodies: {self} is the caller, {normal}/{superuser}/{admin} another user of that role.
MATRIX = {
    "login": ("post", LOGIN_URL, "credentials", (200, 200, 200, 429)),
    "refresh": ("post", REFRESH_URL, "refresh", (200, 200, 200, 200)),
    "logout": ("post", LOGOUT_URL, "refresh", (200, 200, 200, 200)),
    "me": ("get", ME_URL, None, (200, 200, 200, 200)),
    "change-password": ("post", CHANGE_PASSWORD_URL, "change", (200, 200, 200, 200)),
    "list users": ("get", USERS_URL, None, (403, 200, 200, 403)),
    "create normal": ("post", USERS_URL, {"role": "normal"}, (403, 201, 201, 403)),
    "create superuser": ("post", USERS_URL, {"role": "superuser"}, (403, 403, 201, 403)),
    "create admin": ("post", USERS_URL, {"role": "admin"}, (403, 403, 201, 403)),
    "get self": ("get", "{self}", None, (200, 200, 200, 200)),
    "get normal": ("get", "{normal}", None, (404, 200, 200, 404)),
    "get superuser": ("get", "{superuser}", None, (404, 404, 200, 404)),
    "get admin": ("get", "{admin}", None, (404, 404, 200, 404)),
    "get unknown": ("get", "{unknown}", None, (404, 404, 404, 404)),
    "patch self username": ("patch", "{self}", {"username": "renamed@example.com"}, (200, 200, 200, 200)),
    "patch self role admin": ("patch", "{self}", {"role": "admin"}, (403, 403, 200, 403)),
    "patch self inactive": ("patch", "{self}", {"active": False}, (403, 403, 403, 403)),
    "patch normal": ("patch", "{normal}", {"must_change_password": True}, (404, 200, 200, 404)),
    "patch normal inactive": ("patch", "{normal}", {"active": False}, (404, 403, 200, 404)),
    "patch normal to admin": ("patch", "{normal}", {"role": "admin"}, (404, 403, 200, 404)),
    "put normal": ("put", "{normal}", "full", (404, 200, 200, 404)),
    "patch superuser": ("patch", "{superuser}", {"active": False}, (404, 404, 200, 404)),
    "patch admin": ("patch", "{admin}", {"active": False}, (404, 404, 200, 404)),
    "delete self": ("delete", "{self}", None, (403, 403, 403, 403)),
    "delete normal": ("delete", "{normal}", None, (403, 403, 200, 403)),
    "delete admin": ("delete", "{admin}", None, (403, 403, 200, 403)),
    "conversations self": ("get", "{self}/conversations", None, (200, 200, 200, 200)),
    "conversations normal": ("get", "{normal}/conversations", None, (404, 200, 200, 404)),
    "conversations admin": ("get", "{admin}/conversations", None, (404, 404, 200, 404)),
    "unlock self": ("post", "{self}/unlock", None, (403, 200, 200, 403)),
    "unlock normal": ("post", "{normal}/unlock", None, (403, 200, 200, 403)),
    "unlock admin": ("post", "{admin}/unlock", None, (403, 404, 200, 403)),
    "reset-password self": ("post", "{self}/reset-password", None, (403, 403, 403, 403)),
    "reset-password normal": ("post", "{normal}/reset-password", None, (403, 200, 200, 403)),
    "reset-password superuser": ("post", "{superuser}/reset-password", None, (403, 404, 200, 403)),
    "audit-logs": ("get", AUDIT_URL, None, (403, 403, 200, 403)),
}

CODES = {403: "PERMISSION_DENIED", 404: "RESOURCE_NOT_FOUND", 429: "ACCOUNT_LOCKED"}


def _make_caller(kind: str):
    """(user, token pair, APIClient)."""
    client = APIClient(REMOTE_ADDR=fresh_ip())
    role = kind if kind in ("superuser", "admin") else "normal"
    user = UserFactory(role=role)
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
        target_id = me.pk
    elif target_id is None:
        target_id = others[target].pk
    return user_url(target_id, suffix.lstrip("/"))


def _body(spec, me, pair, path: str, client):
    if spec == "credentials":
        return {"username": me.username, "password": DEFAULT_PASSWORD}
    if spec == "refresh":
        return {"refresh_token": pair.refresh_token}
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
    payload = response.json()
    assert response.status_code == expected, payload
    if expected >= 400:
        assert payload["success"] is False
        assert payload["error"]["code"] == CODES[expected]
    else:
        assert payload["success"] is True
