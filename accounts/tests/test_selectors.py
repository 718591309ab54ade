"""Selectors: who sees whom, the principal description of auth/me, the conversations hook."""

import sys
from types import ModuleType

import pytest

from accounts import selectors
from accounts.tests.factories import UserFactory, client_principal_stand_in

pytestmark = pytest.mark.django_db


def test_principal_profile_of_an_integration_client():
    assert selectors.principal_profile(client_principal_stand_in()) == {
        "principal_type": "integration_client",
        "client_id": "cli_1",
        "client_name": "ETL",
        "role": "integration",
        "roles": ["integration"],
        "permissions": ["use_tools"],
        "must_change_password": False,
    }


def test_principal_profile_of_a_user(superuser):
    profile = selectors.principal_profile(superuser)
    assert profile["principal_type"] == "user" and profile["id"] == str(superuser.pk)
    assert profile["roles"] == ["superuser"] and "admin_tools" in profile["permissions"]
    assert "delete_user" not in profile["permissions"]


def test_inactive_users_hold_no_permissions():
    assert selectors.user_token_profile(UserFactory(role="admin", is_active=False))["permissions"] == []


def test_visibility(admin, superuser, user):
    other_super = UserFactory(role="superuser")
    assert set(selectors.user_visible_queryset(actor=admin)) == {admin, superuser, user, other_super}
    assert set(selectors.user_visible_queryset(actor=superuser)) == {superuser, user}
    assert list(selectors.user_visible_queryset(actor=user)) == [user]
    assert list(selectors.user_visible_queryset(actor=client_principal_stand_in())) == []


def test_conversations_come_from_the_agent_app_when_it_provides_them(user, monkeypatch):
    assert list(selectors.user_conversation_list(user=user)) == []
    fake = ModuleType("agent.selectors")
    fake.conversations_for_user = lambda *, user: [{"conversation_id": "c1", "owner": user.username}]
    monkeypatch.setitem(sys.modules, "agent.selectors", fake)
    assert selectors.user_conversation_list(user=user) == [{"conversation_id": "c1", "owner": user.username}]
