from types import SimpleNamespace

import factory

from accounts.models import User
from majed_vanna.roles import Role

DEFAULT_PASSWORD = "correct-horse-battery-staple-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    role = Role.NORMAL
    is_active = True
    must_change_password = False

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or DEFAULT_PASSWORD)
        if create:
            self.save(update_fields=["password"])


def client_principal_stand_in(*, client_id: str = "cli_1", name: str = "ETL", permissions=("use_tools",)):
    """An object shaped like an integration client principal (BRIEF "Interfaces"), for accounts' own tests
    that need one without the integrations app's credentials."""
    return SimpleNamespace(
        is_authenticated=True,
        pk=client_id,
        integration_client_id=client_id,
        client_name=name,
        role="integration",
        mv_permissions=frozenset(permissions),
        must_change_password=False,
    )
