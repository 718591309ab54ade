"""``agent/tools/registry`` and ``agent/tools/history``: every tool with its settings and its usage from the call
log; an administrator's change is audited and is what the registry and ``tool_settings`` answer at once."""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from accounts.models import AuditLog
from agent import selectors
from agent.models import ToolCall
from agent.services.tool_calls import atool_call_record, tool_call_record
from integrations.principal import IntegrationPrincipal
from integrations.services import client_create

pytestmark = pytest.mark.django_db
REGISTRY = "/api/v1/agent/tools/registry"
HISTORY = "/api/v1/agent/tools/history"
ALL_ROLES = ["admin", "superuser", "normal", "integration"]


def log(principal, *, success=True, duration=10.0, tool="run_sql", source=None, **extra):
    return tool_call_record(
        principal=principal,
        tool=tool,
        args=extra.pop("args", {"sql": "SELECT 1"}),
        duration_ms=duration,
        success=success,
        error_code="" if success else "SQL_REFUSED",
        conversation_id=None,
        data_source_id=source.pk if source is not None else None,
    )


@pytest.fixture
def shop(sqlite_url):
    """A data source every role may use: calls on it are in every admin_tools holder's history."""
    from agent.tests.factories import make_source

    return make_source(name="shop", url=sqlite_url)


def run_sql_entry(client) -> dict:
    response = client.get(REGISTRY)
    assert response.status_code == 200, response.content
    return next(t for t in response.json()["data"]["tools"] if t["tool_id"] == "run_sql")


def test_the_registry_counts_usage_from_the_call_log(user, superuser, api_client_for):
    for duration in (10.0, 20.0, 30.0):
        log(user, duration=duration)
    log(user, success=False, duration=40.0)
    log(user, tool="some_other_tool", duration=500.0)  # another tool's calls do not count
    entry = run_sql_entry(api_client_for(superuser))  # admin_tools
    assert (entry["usage_count"], entry["error_count"], entry["mean_duration_ms"]) == (4, 1, 25.0)
    assert entry["last_used_at"] is not None
    assert (entry["enabled"], entry["roles"], entry["customised"]) == (True, ALL_ROLES, False)
    assert entry["parameters"]["properties"]["sql"]["type"] == "string" and entry["description"]


def test_an_unused_tool_has_zero_counts(superuser, api_client_for):
    entry = run_sql_entry(api_client_for(superuser))
    assert (entry["usage_count"], entry["error_count"], entry["mean_duration_ms"]) == (0, 0, None)


def test_an_admin_disables_a_tool_and_narrows_its_roles(admin, user, superuser, api_client_for):
    client = api_client_for(admin)
    response = client.patch(f"{REGISTRY}/run_sql", {"enabled": False, "roles": ["normal", "admin"]}, format="json")
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert (data["enabled"], data["roles"], data["customised"]) == (False, ["admin", "normal"], True)
    assert data["updated_by"] == admin.username
    assert selectors.tool_settings()["run_sql"] == {"enabled": False, "roles": ["admin", "normal"]}
    assert not selectors.tool_allowed(user, "run_sql")  # disabled: nobody
    row = AuditLog.objects.get(action="tool.update", resource_id="run_sql")
    assert row.user_id == str(admin.pk)
    assert row.details["old"] == {"enabled": True, "roles": ALL_ROLES}
    assert row.details["new"] == {"enabled": False, "roles": ["admin", "normal"]}

    client.patch(f"{REGISTRY}/run_sql", {"enabled": True}, format="json")
    assert run_sql_entry(client)["roles"] == ["admin", "normal"]  # a partial change keeps the rest
    assert selectors.tool_allowed(user, "run_sql") and selectors.tool_allowed(admin, "run_sql")
    assert not selectors.tool_allowed(superuser, "run_sql")
    integration = IntegrationPrincipal(client_create(name="bot", permissions=["use_chat"]).client)
    assert not selectors.tool_allowed(integration, "run_sql")
    client.patch(f"{REGISTRY}/run_sql", {"roles": ["integration"]}, format="json")
    assert selectors.tool_allowed(integration, "run_sql") and not selectors.tool_allowed(user, "run_sql")


def test_only_an_admin_changes_a_tool(superuser, user, api_client_for):
    for caller in (superuser, user):
        before = AuditLog.objects.filter(action="permission.denied", user_id=str(caller.pk)).count()
        response = api_client_for(caller).patch(f"{REGISTRY}/run_sql", {"enabled": False}, format="json")
        assert response.status_code == 403 and response.json()["error"]["code"] == "PERMISSION_DENIED"
        assert AuditLog.objects.filter(action="permission.denied", user_id=str(caller.pk)).count() == before + 1
    assert selectors.tool_settings()["run_sql"]["enabled"] is True
    denied = api_client_for(user).get(REGISTRY)
    assert denied.status_code == 403  # the registry is for admin_tools


def test_bad_changes_are_refused(admin, api_client_for):
    client = api_client_for(admin)
    assert client.patch(f"{REGISTRY}/no_such_tool", {"enabled": False}, format="json").status_code == 404
    for body, field in (({"roles": ["wizard"]}, "roles"), ({}, "enabled"), ({"enabled": "maybe"}, "enabled")):
        response = client.patch(f"{REGISTRY}/run_sql", body, format="json")
        assert response.status_code == 422 and field in response.json()["error"]["details"], (body, response.content)
    assert not AuditLog.objects.filter(action="tool.update").exists()


def test_history_lists_calls_newest_first_with_filters(user, admin, superuser, api_client_for, shop):
    old = log(user, args={"sql": "SELECT 'postgresql://a:hunter2@h/db'", "password": "hunter2"}, source=shop)
    ToolCall.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    failed = log(admin, success=False, source=shop)
    recent = log(user, source=shop)
    client = api_client_for(superuser)
    data = client.get(HISTORY).json()["data"]
    assert [c["id"] for c in data["calls"]] == [recent.pk, failed.pk, old.pk]
    assert data["calls"][0]["caller"] == {"type": "user", "id": str(user.pk), "name": user.username}
    assert "hunter2" not in str(data)
    assert [c["id"] for c in client.get(HISTORY, {"success": "false"}).json()["data"]["calls"]] == [failed.pk]
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert {c["id"] for c in client.get(HISTORY, {"since": since}).json()["data"]["calls"]} == {recent.pk, failed.pk}
    assert [c["id"] for c in client.get(HISTORY, {"until": since}).json()["data"]["calls"]] == [old.pk]
    assert client.get(HISTORY, {"tool": "other"}).json()["data"]["calls"] == []
    assert api_client_for(user).get(HISTORY).status_code == 403


def test_history_hides_calls_on_a_source_the_reader_may_not_use(admin, superuser, api_client_for, shop, roots):
    """Review finding: a superuser (admin_tools, not system_admin) read the SQL run on admins-only sources."""
    from agent.tests.factories import make_source, sqlite_file

    secret = make_source(name="payroll", url=f"sqlite:///{sqlite_file(roots / 'payroll.sqlite3')}", roles=["admin"])
    hidden = log(admin, args={"sql": "SELECT salary FROM payroll"}, source=secret)
    shown = log(admin, source=shop)
    unknown = log(admin)  # no data source recorded: system_admin only
    seen = [c["id"] for c in api_client_for(superuser).get(HISTORY).json()["data"]["calls"]]
    assert seen == [shown.pk]
    assert {c["id"] for c in api_client_for(admin).get(HISTORY).json()["data"]["calls"]} == {
        hidden.pk,
        shown.pk,
        unknown.pk,
    }


@pytest.mark.django_db(transaction=True)
async def test_a_coroutine_logs_a_call_and_reads_the_settings_without_blocking_rules(user):
    from agent.tool_settings import atool_settings

    row = await atool_call_record(
        principal=user, tool="run_sql", args={"sql": "SELECT 1"}, duration_ms=3, success=True, conversation_id=None
    )
    assert row is not None and await sync_to_async(ToolCall.objects.filter(pk=row.pk).exists)()
    assert (await atool_settings())["run_sql"]["enabled"] is True


def test_registry_and_history_cost_the_same_queries_whatever_the_log_holds(user, superuser, api_client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_client_for(superuser)

    def queries(path) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    log(user)
    queries(REGISTRY)  # the first request also warms per-process state
    counts = (queries(REGISTRY), queries(HISTORY))
    for n in range(10):
        log(user, success=bool(n % 2), duration=n)
    assert (queries(REGISTRY), queries(HISTORY)) == counts
