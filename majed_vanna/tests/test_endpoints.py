"""Every operation of the OpenAPI schema passes the shared endpoint checks (``endpoint_cases``): 401 anonymous,
403 without the permission (audited), 403 PASSWORD_CHANGE_REQUIRED, 403 for integration clients, 404 for an
object the caller may not see or a malformed id, list shape and 422 for a bad query, 400 for absurdly nested
JSON, the envelope and ``X-Request-Id`` on every answer. An operation without a declaration, a declaration
without an operation and a URL routed under /api/v1/ but missing from the schema all fail.

Each route x check is its own test id, e.g. ``GET /api/v1/users/{user_id} | 404 hidden admin from superuser``.
"""

import pytest

from majed_vanna.tests import endpoint_cases as cases

SCHEMA = cases.schema_document()
OPERATIONS = cases.schema_operations(SCHEMA)
JSON_BODY_OPERATIONS = cases.json_body_operations(SCHEMA)
DECLARED = cases.declared_endpoints()

ALL_CASES = [
    *(
        (endpoint, check, argument, suffix)
        for endpoint in DECLARED.values()
        for check, argument, suffix in cases.endpoint_checks(endpoint, json_body=endpoint.key in JSON_BODY_OPERATIONS)
    ),
    *cases.path_checks(DECLARED),
]
CHECK_CASES = [
    pytest.param(endpoint, check, argument, id=cases.case_id(endpoint, check, suffix))
    for endpoint, check, argument, suffix in ALL_CASES
]


@pytest.mark.parametrize("operation", sorted(OPERATIONS), ids=" ".join)
def test_every_schema_operation_is_declared(operation):
    """A new endpoint cannot arrive without the shared checks: declare it in ``<app>/tests/endpoints.py``."""
    assert operation in DECLARED, f"{' '.join(operation)} has no declaration in any <app>/tests/endpoints.py"


def test_every_declaration_is_a_schema_operation():
    assert sorted(set(DECLARED) - OPERATIONS) == []


def test_every_routed_api_url_is_in_the_schema():
    documented = cases.schema_routes(OPERATIONS)
    routed = cases.routed_operations()
    missing = sorted(readable for key, readable in routed.items() if key not in documented)
    assert missing == [], "routed under /api/v1/ but missing from the OpenAPI schema"


def test_the_password_change_exemptions_are_the_contracts():
    """Contract §4: everything but auth/me, auth/change-password, auth/refresh and auth/logout (and what is
    public: login, health, the API index)."""
    exempt = {e.label for e in DECLARED.values() if e.password_change_exempt or e.public}
    auth = {f"POST /api/v1/auth/{name}" for name in ("login", "refresh", "logout", "change-password")}
    health = {f"GET /api/v1/health{suffix}" for suffix in ("", "/live", "/ready")}
    assert exempt == auth | health | {"GET /api/v1/auth/me", "GET /api/v1"}


@pytest.fixture
def isolated_paths(settings, tmp_path):
    """Whatever a check reaches (backups, logs, the data source) stays in this test's directory."""
    settings.MV_BACKUP_DIR = str(tmp_path / "backups")
    settings.MV_LOG_DIR = str(tmp_path / "logs")
    settings.MV_ALLOWED_PATH_ROOTS = [str(tmp_path)]
    settings.MV_DATA_SOURCE_URL = f"sqlite:///{tmp_path / 'demo.sqlite3'}"


@pytest.mark.django_db
@pytest.mark.usefixtures("isolated_paths")
@pytest.mark.parametrize(("endpoint", "check", "argument"), CHECK_CASES)
def test_endpoint(endpoint, check, argument):
    cases.CHECKS[check](endpoint, argument)


@pytest.mark.urls("majed_vanna.tests.urls")
def test_a_routed_url_missing_from_the_schema_is_found():
    """The walk sees what the router serves: the test-only views under /api/v1/test/ are not documented."""
    documented = cases.schema_routes(OPERATIONS)
    routed = cases.routed_operations()
    missing = {readable for key, readable in routed.items() if key not in documented}
    assert {"GET /api/v1/test/ok", "POST /api/v1/test/validate", "GET /api/v1/test/async-admin"} <= missing
    assert "GET /api/v1/users/?$" in set(routed.values()) - missing
