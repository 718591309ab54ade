"""Query filters for ``GET agent/data-sources`` (contract §2), run by ``majed_vanna.api.filtering``."""

import django_filters

from majed_vanna.api.filtering import StableOrderingFilter, StrictBooleanFilter

from .models import DataSource, Engine


class DataSourceFilter(django_filters.FilterSet):
    engine = django_filters.ChoiceFilter(choices=Engine.choices, help_text="sqlite or postgresql")
    enabled = StrictBooleanFilter(help_text="Enabled (true) or disabled (false) sources")
    is_default = StrictBooleanFilter(help_text="Only the default source (true) or the others (false)")
    search = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", max_length=100, help_text="Name contains"
    )
    ordering = StableOrderingFilter(fields=("name", "engine", "created_at", "updated_at"), tiebreaker="id")

    class Meta:
        model = DataSource
        fields = ["engine", "enabled", "is_default", "search"]
