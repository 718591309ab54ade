"""Reads of integration clients, for this app's views, authentication and other apps."""

from django.db.models import Q, QuerySet

from .models import IntegrationClient


def client_list(*, status: str | None = None, search: str | None = None) -> QuerySet[IntegrationClient]:
    qs = IntegrationClient.objects.select_related("created_by").order_by("-created_at", "-id")
    if status:
        qs = qs.filter(status=status)
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(description__icontains=search) | Q(client_id__iexact=search))
    return qs


def client_get(*, client_id: str) -> IntegrationClient | None:
    return IntegrationClient.objects.select_related("created_by").filter(client_id=client_id).first()


def client_for_api_key_prefix(*, prefix: str) -> IntegrationClient | None:
    return IntegrationClient.objects.filter(api_key_prefix=prefix).first()
