"""The semantic layer's visible tables per role are the gate's table allow-list for the agent, and the prompt
shows only those tables: a normal user's agent cannot read a table hidden from ``normal``; an admin's can."""

import pytest
from asgiref.sync import sync_to_async

from accounts.models import AuditLog
from agent.services.queries import data_source_check
from agent.sql.types import SqlRefused

from ..chat.conftest import ask
from ..engine.script import llm_requests, say, system_prompt, tool_call, tool_messages
from .conftest import HIDDEN

pytestmark = pytest.mark.django_db(transaction=True)

SALARIES = f"SELECT avg(salary) AS average FROM {HIDDEN}"


def error_of(answer: dict) -> dict:
    return answer["metadata"]["error"]


async def test_a_hidden_table_is_refused_to_a_normal_user_and_read_by_an_admin(scanned_hidden, offline, user, admin):
    refused = await ask(user, SALARIES)
    assert error_of(refused)["code"] == "SQL_REFUSED" and error_of(refused)["details"]["rule"] == "table"
    assert refused["lineage"]["row_count"] is None
    audited = await sync_to_async(AuditLog.objects.get)(action="agent.sql_refused")
    assert audited.details["rule"] == "table" and audited.user_id == str(user.pk)

    allowed = await ask(admin, SALARIES)
    assert error_of(allowed) is None and allowed["lineage"]["row_count"] == 1
    assert allowed["lineage"]["tables"] == [HIDDEN]

    # The other tables stay readable to the normal user, joins through them included.
    visible = await ask(user, "SELECT count(*) AS n FROM orders JOIN customers ON customers.id = orders.customer_id")
    assert error_of(visible) is None and visible["lineage"]["row_count"] == 1


async def test_the_gate_check_itself_uses_the_callers_role(scanned_hidden, user, admin):
    with pytest.raises(SqlRefused) as refused:
        await data_source_check(source=scanned_hidden, sql=SALARIES, principal=user)
    assert refused.value.rule == "table"
    checked = await data_source_check(source=scanned_hidden, sql=SALARIES, principal=admin)
    assert checked.tables == (HIDDEN,)


async def test_a_source_never_scanned_restricts_nothing(demo_source, offline, user):
    answer = await ask(user, SALARIES)
    assert error_of(answer) is None and answer["lineage"]["row_count"] == 1


async def test_the_prompt_shows_a_normal_user_no_hidden_table(scanned_hidden, openai_llm, user, admin):
    say(openai_llm, "Salaries are not something I can see.")
    await ask(user, "What is the average salary of employees?")
    prompt = system_prompt(llm_requests(openai_llm)[-1])
    assert "- orders(" in prompt and "- customers(" in prompt
    assert HIDDEN not in prompt and "salary" not in prompt  # nor the orders' foreign key to it

    say(openai_llm, "Here it is.")
    await ask(admin, "What is the average salary of employees?")
    prompt = system_prompt(llm_requests(openai_llm)[-1])
    assert f"- {HIDDEN}(" in prompt and f"employee_id -> {HIDDEN}(id)" in prompt


async def test_the_models_sql_on_a_hidden_table_is_refused_for_a_normal_user(scanned_hidden, openai_llm, user):
    tool_call(openai_llm, SALARIES)
    say(openai_llm, "I cannot read that table.")
    answer = await ask(user, "What is the average salary?")
    message = tool_messages(llm_requests(openai_llm)[-1])[0]
    assert message.startswith("SQL_REFUSED (rule: table)")
    assert answer["lineage"]["attempts"][0]["ok"] is False and answer["lineage"]["row_count"] is None


async def test_the_offline_answer_lists_only_visible_tables(scanned_hidden, offline, user, admin):
    text = (await ask(user, "Tell me something about the weather"))["response"]
    assert "Tables I know:" in text and "orders" in text and HIDDEN not in text
    assert HIDDEN in (await ask(admin, "Tell me something about the weather"))["response"]
