"""The accounts routes, declared for the shared endpoint checks (``majed_vanna/tests/test_endpoints.py``).

Users see themselves; superusers also see normal users; admins see everyone (contract §4). Integration clients
have no user account: every ``users`` route and change-password/logout refuse them (``users_only``).
"""

from majed_vanna.tests.endpoint_cases import Endpoint, Hidden, make_user

USER = "/api/v1/users/{user_id}"


def a_normal_user() -> dict:
    return {"user_id": make_user("normal").pk}


def an_admin() -> dict:
    return {"user_id": make_user("admin").pk}


def a_superuser() -> dict:
    return {"user_id": make_user("superuser").pk}


# Objects a caller may not see: a superuser asking for an admin or another superuser, a normal user asking for
# anyone else.
HIDDEN_FROM_READERS = (
    Hidden("superuser", an_admin, "admin from superuser"),
    Hidden("superuser", a_superuser, "superuser from superuser"),
    Hidden("normal", a_normal_user, "other user from normal"),
)
HIDDEN_FROM_MANAGERS = (Hidden("superuser", an_admin, "admin from superuser"),)

USER_QUERIES = ({"ordering": "bogus"}, {"active": "maybe"}, {"role": "king"})
AUDIT_QUERIES = ({"success": "maybe"}, {"since": "yesterday"}, {"until": "2024-13-45"})

ENDPOINTS = [
    # auth/*: login and refresh take credentials in the body; the token endpoints ignore Idempotency-Key (tokens
    # are never kept for a replay); me, change-password, refresh and logout are open to must-change-password users.
    Endpoint(
        "POST",
        "/api/v1/auth/login",
        public=True,
        idempotent=False,
        bad_body={},
        # counted by the login service, so only once there is a username to count (a 422 is not counted)
        throttle_body={"username": "nobody@example.com", "password": "not-the-password"},
    ),
    Endpoint("POST", "/api/v1/auth/refresh", public=True, idempotent=False, bad_body={}),
    Endpoint(
        "POST",
        "/api/v1/auth/logout",
        users_only=True,
        password_change_exempt=True,
        idempotent=False,
        bad_body={"refresh_token": "not-a-token"},
    ),
    Endpoint("GET", "/api/v1/auth/me", password_change_exempt=True),
    Endpoint(
        "POST",
        "/api/v1/auth/change-password",
        users_only=True,
        password_change_exempt=True,
        idempotent=False,
        bad_body={},
    ),
    # users
    Endpoint(
        "GET",
        "/api/v1/users",
        permission="read_user",
        denied=("normal",),
        users_only=True,
        results_key="users",
        bad_queries=USER_QUERIES,
    ),
    Endpoint(
        "POST",
        "/api/v1/users",
        permission="create_user",
        denied=("normal",),
        users_only=True,
        bad_body={"username": "not-an-email", "role": "king"},
    ),
    Endpoint("GET", USER, users_only=True, target=a_normal_user, hidden=HIDDEN_FROM_READERS),
    Endpoint("PUT", USER, users_only=True, target=a_normal_user, hidden=HIDDEN_FROM_READERS, bad_body={"role": "king"}),
    Endpoint(
        "PATCH", USER, users_only=True, target=a_normal_user, hidden=HIDDEN_FROM_READERS, bad_body={"role": "king"}
    ),
    Endpoint(
        "DELETE",
        USER,
        permission="delete_user",
        denied=("normal", "superuser"),
        users_only=True,
        target=a_normal_user,
    ),
    Endpoint(
        "GET",
        USER + "/conversations",
        users_only=True,
        target=a_normal_user,
        hidden=HIDDEN_FROM_READERS,
        results_key="conversations",
    ),
    Endpoint(
        "POST",
        USER + "/unlock",
        permission="update_user",
        denied=("normal",),
        users_only=True,
        target=a_normal_user,
        hidden=HIDDEN_FROM_MANAGERS,
    ),
    Endpoint(
        "POST",
        USER + "/reset-password",
        permission="update_user",
        denied=("normal",),
        users_only=True,
        target=a_normal_user,
        hidden=HIDDEN_FROM_MANAGERS,
    ),
    # audit
    Endpoint(
        "GET",
        "/api/v1/audit-logs",
        permission="view_logs",
        denied=("normal", "superuser"),
        results_key="logs",
        bad_queries=AUDIT_QUERIES,
    ),
]
