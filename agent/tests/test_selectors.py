"""Who sees which data source, and what a runner receives."""

import pytest

from accounts.tests.factories import UserFactory, client_principal_stand_in
from agent import selectors
from agent.sql.types import DataSourceSpec

from .factories import PASSWORD, PG_URL, make_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def sources():
    return {
        "everyone": make_source(name="everyone", url=PG_URL),
        "staff": make_source(name="staff", url=PG_URL, roles=["admin", "superuser"]),
        "clients": make_source(name="clients", url=PG_URL, roles=["integration"]),
        "off": make_source(name="off", url=PG_URL, enabled=False),
    }


def names(principal) -> set[str]:
    """Names visible, besides ``demo`` (the default source every role may use, made on first use)."""
    return set(selectors.data_sources_visible(principal).values_list("name", flat=True)) - {"demo"}


def test_system_admin_sees_every_source(sources):
    assert names(UserFactory(role="admin")) == set(sources)


def test_chat_users_see_the_enabled_sources_of_their_role(sources):
    assert names(UserFactory(role="normal")) == {"everyone"}
    assert names(UserFactory(role="superuser")) == {"everyone", "staff"}


def test_integration_clients_with_use_chat_see_the_sources_for_integration(sources):
    assert names(client_principal_stand_in(permissions=("use_chat",))) == {"everyone", "clients"}
    assert names(client_principal_stand_in(permissions=("use_tools",))) == set()


def test_an_inactive_user_sees_nothing(sources):
    assert names(UserFactory(role="admin", is_active=False)) == set()


def test_the_spec_carries_the_decrypted_url_and_the_limits():
    source = make_source(name="Shop", url=PG_URL, statement_timeout_ms=2500, row_cap=10, max_result_bytes=4096)
    spec = selectors.data_source_spec(source)
    assert spec == DataSourceSpec(
        id=str(source.pk),
        name="Shop",
        engine="postgresql",
        url=PG_URL,
        statement_timeout_ms=2500,
        row_cap=10,
        max_result_bytes=4096,
        allow_system_catalogs=False,
    )
    assert PASSWORD not in repr(spec)
