"""The runtime configuration's ``rate_limits`` map: validated per key, audited with old and new values,
shown to admins in GET config, available at run time through ``runtime_value("rate_limits", {})``."""

import pytest

from accounts.models import AuditLog
from majed_vanna.rates import check_rate
from majed_vanna.roles import Role
from majed_vanna.runtime import runtime_value

CONFIG_URL = "/api/v1/config"


def test_put_stores_shows_and_audits_the_map(admin_client):
    assert runtime_value("rate_limits", {}) == {}
    response = admin_client.put(
        CONFIG_URL, {"rate_limits": {"agent.chat": "10000/hour", "default": " 5000 / hour "}}, format="json"
    )
    assert response.status_code == 200, response.json()
    expected = {"agent.chat": "10000/hour", "default": "5000/hour"}
    assert response.json()["data"]["updated_config"]["rate_limits"] == expected
    assert admin_client.get(CONFIG_URL).json()["data"]["rate_limits"] == expected
    assert runtime_value("rate_limits", {}) == expected

    admin_client.put(CONFIG_URL, {"rate_limits": {"agent.chat": "20000/hour"}}, format="json")
    row = AuditLog.objects.filter(action="config.update").order_by("-id").first()
    assert row.details["old"]["rate_limits"] == expected
    assert row.details["new"]["rate_limits"] == {"agent.chat": "20000/hour"}
    assert runtime_value("rate_limits", {}) == {"agent.chat": "20000/hour"}


def test_each_bad_entry_is_a_422_naming_its_key(admin_client):
    response = admin_client.put(
        CONFIG_URL,
        {
            "rate_limits": {
                "Agent.Chat": "10/hour",
                "agent..chat": "10/hour",
                "users.list": "0/hour",
                "users.create": "-5/hour",
                "health": "many",
                "config.read": "10/fortnight",
                "agent.tools": "10",
                "integrations.list": "10/hour",
            }
        },
        format="json",
    )
    assert response.status_code == 422
    details = response.json()["error"]["details"]["rate_limits"]
    assert set(details) == {
        "Agent.Chat",
        "agent..chat",
        "users.list",
        "users.create",
        "health",
        "config.read",
        "agent.tools",
    }
    assert runtime_value("rate_limits", {}) == {}


def test_auth_login_cannot_be_overridden(admin_client):
    response = admin_client.put(CONFIG_URL, {"rate_limits": {"auth.login": "1000/minute"}}, format="json")
    assert response.status_code == 422
    (message,) = response.json()["error"]["details"]["rate_limits"]["auth.login"]
    assert "cannot be overridden" in message and "LOGIN_RATE" in message


def test_not_a_map_is_refused(admin_client):
    for value in (["agent.chat"], "agent.chat=10/hour", 5):
        response = admin_client.put(CONFIG_URL, {"rate_limits": value}, format="json")
        assert response.status_code == 422, value


def test_only_admins_see_the_map(api_client_for, user):
    data = api_client_for(user).get(CONFIG_URL).json()["data"]
    assert "rate_limits" not in data and user.role == Role.NORMAL


@pytest.mark.parametrize("rate", ["1/s", "10/minute", "100/hour", "1000/day", "60/30s"])
def test_valid_rates(rate):
    assert check_rate(rate) == rate


@pytest.mark.parametrize("rate", ["", "0/hour", "10/0s", "x/hour", "10/hours!", None, 10, "1" * 40 + "/hour"])
def test_invalid_rates(rate):
    with pytest.raises(ValueError):
        check_rate(rate)
