"""``majed_vanna.api.permissions`` and the scope a view names: ``HEAD`` is a ``GET`` (found by the review of
issue 12).

A view that declares its permission (and its rate-limit scope) by HTTP method, ``{"get": "read_config", "put":
"update_config"}``, answered ``HEAD`` with neither: Django serves HEAD with the GET handler, so a caller
without ``read_config`` got 200 from ``HEAD /api/v1/config`` (the whole read ran, only the body was dropped),
no ``permission.denied`` row, and the request counted against the shared default budget instead of
``config.read``.
"""

from types import SimpleNamespace

import pytest

from accounts.models import AuditLog
from majed_vanna.api.permissions import required_permission
from majed_vanna.api.viewsets import BaseAPIView


class _ByMethod(BaseAPIView):
    required_permissions = {"get": "read_thing", "put": "change_thing"}
    throttle_scopes = {"get": "things.read", "put": "things.update"}


@pytest.mark.parametrize(
    ("method", "permission"), [("GET", "read_thing"), ("HEAD", "read_thing"), ("PUT", "change_thing")]
)
def test_head_needs_what_get_needs(method, permission):
    request = SimpleNamespace(method=method)
    assert required_permission(_ByMethod(), request) == permission
    assert _ByMethod().throttle_scope(request) == ("things.update" if method == "PUT" else "things.read")


@pytest.mark.django_db
def test_head_config_without_read_config_is_refused_and_audited(api_client):
    from integrations.services import client_create

    issued = client_create(name="chat only", permissions=["use_chat"])
    api_client.credentials(HTTP_X_API_KEY=issued.api_key)
    response = api_client.head("/api/v1/config")
    assert response.status_code == 403
    assert response["X-RateLimit-Limit"] == "60"  # config.read's own rate
    row = AuditLog.objects.get(action="permission.denied")
    assert row.details == {"method": "HEAD", "permission": "read_config"}
