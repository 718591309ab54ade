"""Reads of integration clients, for this app's views, authentication and other apps."""

from django.db.models import QuerySet

from majed_vanna.api.filtering import filter_queryset

from .filters import ClientFilter
from .models import IntegrationClient


def client_list(*, params) -> QuerySet[IntegrationClient]:
    """Clients, newest first, filtered by ``status`` and ``search`` (``ClientFilter``; a bad value is 422)."""
    queryset = IntegrationClient.objects.select_related("created_by").order_by("-created_at", "-id")
    return filter_queryset(ClientFilter, params, queryset)


def client_visible_queryset(*, actor) -> QuerySet[IntegrationClient]:
    """Clients ``actor`` may see: every one, for the callers the view lets in (``manage_integrations``)."""
    return IntegrationClient.objects.select_related("created_by")


def client_get(*, client_id: str) -> IntegrationClient | None:
    return IntegrationClient.objects.select_related("created_by").filter(client_id=client_id).first()


def client_for_api_key_prefix(*, prefix: str) -> IntegrationClient | None:
    return IntegrationClient.objects.filter(api_key_prefix=prefix).first()
