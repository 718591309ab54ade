"""The tools registry in the agent's path: a disabled tool, or one whose roles leave out the caller, is neither
offered to the model nor listed by ``GET agent/tools``; every ``run_sql`` call is in the tool-call log."""

import json

import pytest
from asgiref.sync import sync_to_async

from agent.engine.tools import atools_for
from agent.models import ToolCall
from agent.services.tools_registry import tool_setting_update

from ..chat.conftest import ask
from ..engine.script import llm_requests, say, tool_call, tool_messages

pytestmark = pytest.mark.django_db(transaction=True)

TOOLS = "/api/v1/agent/tools"


def offered(request) -> list[str]:
    """The tool names the model was offered in ``request`` (OpenAI format; no ``tools`` key when none)."""
    return [tool["function"]["name"] for tool in request.body.get("tools") or []]


async def change(admin, **fields):
    await sync_to_async(tool_setting_update)(tool_id="run_sql", actor=admin, **fields)


async def test_a_disabled_tool_is_not_offered_to_the_model_nor_listed(demo_source, openai_llm, user, admin):
    say(openai_llm, "There are 120 customers.")
    await ask(user, "How many customers are there?")
    assert offered(llm_requests(openai_llm)[-1]) == ["run_sql"]
    assert [t["tool_id"] for t in await atools_for(user)] == ["run_sql"]

    await change(admin, enabled=False)
    say(openai_llm, "I cannot look at the data right now.")
    answer = await ask(user, "How many customers are there?")
    assert offered(llm_requests(openai_llm)[-1]) == []
    assert answer["tools_used"] == [] and answer["lineage"]["sql"] is None
    assert await atools_for(user) == [] and await atools_for(admin) == []


async def test_a_tool_whose_roles_leave_out_the_caller(demo_source, openai_llm, user, admin, api_client_for):
    await change(admin, roles=["admin"])

    listing = sync_to_async(lambda who: api_client_for(who).get(TOOLS).json()["data"]["tools"])
    assert await listing(user) == []
    assert [t["tool_id"] for t in await listing(admin)] == ["run_sql"]

    say(openai_llm, "Admins may look.")
    await ask(admin, "Hello")
    assert offered(llm_requests(openai_llm)[-1]) == ["run_sql"]

    # The model calls the tool anyway for a normal user: it does not run, and the model is told why.
    tool_call(openai_llm, "SELECT count(*) AS n FROM customers")
    say(openai_llm, "I could not query the data.")
    answer = await ask(user, "How many customers are there?")
    requests = llm_requests(openai_llm)
    assert offered(requests[-2]) == [] and offered(requests[-1]) == []
    assert "There is no tool named 'run_sql'" in tool_messages(requests[-1])[0]
    assert answer["lineage"]["sql"] is None and answer["lineage"]["attempts"] == []
    assert await sync_to_async(ToolCall.objects.count)() == 0


async def test_every_run_sql_call_is_logged_with_its_outcome(demo_source, openai_llm, user):
    refused = "DELETE FROM customers"
    good = "SELECT count(*) AS n, 'postgres://bob:hunter2@db.example/x' AS url FROM customers"
    tool_call(openai_llm, refused)
    tool_call(openai_llm, good)
    say(openai_llm, "There are 120 customers.")
    answer = await ask(user, "How many customers are there?")
    assert answer["lineage"]["row_count"] == 1

    calls = await sync_to_async(list)(ToolCall.objects.order_by("created_at", "id"))
    outcomes = [(c.tool, c.success, c.error_code) for c in calls]
    assert outcomes == [("run_sql", False, "SQL_REFUSED"), ("run_sql", True, "")]
    for call in calls:
        assert call.user_id == user.pk and call.caller_name == user.username
        assert str(call.conversation_id) == answer["conversation_id"]
        assert call.duration_ms > 0
    assert calls[0].arguments == {"sql": refused}
    logged = json.dumps(calls[1].arguments)
    assert "hunter2" not in logged and "bob:" in logged and "FROM customers" in logged


async def test_the_offline_passthrough_is_logged(demo_source, offline, user):
    answer = await ask(user, "SELECT count(*) AS n FROM customers")
    assert answer["lineage"]["row_count"] == 1
    call = await sync_to_async(ToolCall.objects.get)()
    assert (call.tool, call.success, call.user_id) == ("run_sql", True, user.pk)
    assert call.arguments == {"sql": "SELECT count(*) AS n FROM customers"}
    assert str(call.conversation_id) == answer["conversation_id"]
