"""Query filters for ``GET integrations/clients`` (contract §2), run by ``majed_vanna.api.filtering``."""

import django_filters
from django.db.models import Q

from .models import ClientStatus, IntegrationClient


class ClientFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ClientStatus.choices)
    search = django_filters.CharFilter(
        method="filter_search", max_length=100, help_text="Name or description contains, or the client id."
    )

    class Meta:
        model = IntegrationClient
        fields = ["status", "search"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value) | Q(client_id__iexact=value))
