"""The principal (``request.user``) of a request made by an integration client (BRIEF "Interfaces")."""

from django.utils import timezone

from majed_vanna.roles import INTEGRATION_PERMISSIONS, INTEGRATION_ROLE

from .models import IntegrationClient


def client_is_expired(client: IntegrationClient, now=None) -> bool:
    return client.expires_at is not None and client.expires_at <= (now or timezone.now())


class IntegrationPrincipal:
    """What a client may do: exactly the permissions it was created with, nothing when revoked or expired.

    ``pk`` and ``integration_client_id`` are the public client id, so throttles, idempotency keys and audit
    rows name the client, never a user. ``rate_limit`` is the client's own rate (``"10000/hour"``) for every
    scope but ``auth.login``, or ``None``.
    """

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    must_change_password = False
    role = INTEGRATION_ROLE

    def __init__(self, client: IntegrationClient):
        self.integration_client_id = client.client_id
        self.pk = self.id = client.client_id
        self.client_name = client.name
        self.rate_limit: str | None = client.rate_limit or None  # its own rate for every scope but auth.login
        usable = not client.is_revoked and not client_is_expired(client)
        self.mv_permissions = frozenset(client.permissions or ()) & INTEGRATION_PERMISSIONS if usable else frozenset()

    @property
    def roles(self) -> list[str]:
        return [self.role]

    def get_username(self) -> str:
        return self.client_name

    def has_perm(self, perm, obj=None) -> bool:
        return False

    def has_module_perms(self, app_label) -> bool:
        return False

    def __str__(self) -> str:
        return f"integration client {self.integration_client_id}"

    def __eq__(self, other) -> bool:
        return isinstance(other, IntegrationPrincipal) and other.integration_client_id == self.integration_client_id

    def __hash__(self) -> int:
        return hash(self.integration_client_id)
