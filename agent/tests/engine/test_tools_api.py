"""``GET agent/tools``: the tools the caller may use (contract §5), per caller, and the same tools the model is
offered in a chat."""

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from agent.engine.tools import atools_for, tools_for
from integrations.principal import IntegrationPrincipal
from integrations.services import client_create
from majed_vanna.roles import Role

from ..chat.conftest import ask
from .script import llm_requests, say

pytestmark = pytest.mark.django_db(transaction=True)

TOOLS = "/api/v1/agent/tools"
SHAPE = {"tool_id", "name", "description", "category", "permissions_required", "parameters"}


def as_client(permissions):
    issued = client_create(name="Reports", permissions=list(permissions))
    http = APIClient()
    http.credentials(HTTP_X_API_KEY=issued.api_key)
    return http


def listed(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["data"]["tools"]


def assert_run_sql_only(tools):
    assert [t["tool_id"] for t in tools] == ["run_sql"]
    run_sql = tools[0]
    assert set(run_sql) == SHAPE
    assert run_sql["name"] == "run_sql" and run_sql["description"]
    assert run_sql["permissions_required"] == ["use_chat"]
    parameters = run_sql["parameters"]
    assert parameters["type"] == "object" and parameters["required"] == ["sql"]
    assert list(parameters["properties"]) == ["sql"] and parameters["properties"]["sql"]["type"] == "string"


@pytest.mark.parametrize("role", [Role.NORMAL, Role.SUPERUSER, Role.ADMIN])
def test_users_with_use_chat_see_run_sql(api_client_for, role):
    assert_run_sql_only(listed(api_client_for(UserFactory(role=role)).get(TOOLS)))


@pytest.mark.parametrize("permissions", [("use_chat",), ("use_chat", "use_tools", "read_config")])
def test_an_integration_client_with_use_chat_sees_run_sql(permissions):
    assert_run_sql_only(listed(as_client(permissions).get(TOOLS)))


@pytest.mark.parametrize("permissions", [("read_config",), ("use_tools",), ("use_tools", "read_config")])
def test_an_integration_client_without_use_chat_is_refused(permissions):
    response = as_client(permissions).get(TOOLS)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "PERMISSION_DENIED"


def test_anonymous_callers_are_refused(api_client):
    assert api_client.get(TOOLS).status_code == 401


def test_a_caller_without_use_chat_gets_no_tools():
    """The listing's rule itself (the view already refuses such a caller)."""
    issued = client_create(name="Config reader", permissions=["read_config", "use_tools"])
    assert tools_for(IntegrationPrincipal(issued.client)) == []


async def test_the_model_is_offered_exactly_the_listed_tools(demo_source, openai_llm, user):
    say(openai_llm, "Hello.")
    await ask(user, "Hello")
    offered = llm_requests(openai_llm)[0].body["tools"]
    listing = await atools_for(user)
    assert [t["function"]["name"] for t in offered] == [t["name"] for t in listing]
    assert [t["function"]["parameters"] for t in offered] == [t["parameters"] for t in listing]
    assert [t["function"]["description"] for t in offered] == [t["description"] for t in listing]
