"""Query filters of the semantic layer's lists (contract §2), run by ``majed_vanna.api.filtering``."""

import django_filters
from django.db.models import Q

from majed_vanna.api.filtering import StableOrderingFilter, StrictBooleanFilter

from ..models import (
    DescribedBy,
    DriftState,
    Origin,
    SemanticColumn,
    SemanticMetric,
    SemanticRelationship,
    SemanticTable,
    SemanticTerm,
)

SOURCE_HELP = "Data source id"


class _SourceFilter(django_filters.FilterSet):
    data_source = django_filters.UUIDFilter(field_name="data_source_id", help_text=SOURCE_HELP)


class SemanticTableFilter(_SourceFilter):
    state = django_filters.ChoiceFilter(choices=DriftState.choices, help_text="What the last scan saw")
    described_by = django_filters.ChoiceFilter(
        choices=[(v, v) for v in DescribedBy.values if v], help_text="sync or human"
    )
    search = django_filters.CharFilter(method="search_filter", max_length=200, help_text="Name or description contains")
    ordering = StableOrderingFilter(fields=("name", "state", "updated_at"), tiebreaker="id")

    class Meta:
        model = SemanticTable
        fields = ["data_source", "state", "described_by", "search"]

    def search_filter(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))


class SemanticColumnFilter(_SourceFilter):
    table = django_filters.CharFilter(
        field_name="table__name", lookup_expr="iexact", max_length=200, help_text="Table name"
    )
    state = django_filters.ChoiceFilter(choices=DriftState.choices, help_text="What the last scan saw")
    described_by = django_filters.ChoiceFilter(
        choices=[(v, v) for v in DescribedBy.values if v], help_text="sync or human"
    )
    search = django_filters.CharFilter(method="search_filter", max_length=200, help_text="Name or description contains")
    ordering = StableOrderingFilter(fields=(("table__name", "table"), "name", "state", "updated_at"), tiebreaker="id")

    class Meta:
        model = SemanticColumn
        fields = ["data_source", "table", "state", "described_by", "search"]

    def search_filter(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))


class SemanticMetricFilter(_SourceFilter):
    table = django_filters.CharFilter(field_name="table", lookup_expr="iexact", max_length=200, help_text="Base table")
    flagged = StrictBooleanFilter(method="flagged_filter", help_text="Flagged by schema drift (true) or not (false)")
    search = django_filters.CharFilter(method="search_filter", max_length=200, help_text="Name or description contains")
    ordering = StableOrderingFilter(fields=("name", "table", "updated_at"), tiebreaker="id")

    class Meta:
        model = SemanticMetric
        fields = ["data_source", "table", "flagged", "search"]

    def flagged_filter(self, queryset, name, value):
        return queryset.exclude(flagged="") if value else queryset.filter(flagged="")

    def search_filter(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))


class SemanticTermFilter(_SourceFilter):
    search = django_filters.CharFilter(method="search_filter", max_length=200, help_text="Term or definition contains")
    ordering = StableOrderingFilter(fields=("term", "updated_at"), tiebreaker="id")

    class Meta:
        model = SemanticTerm
        fields = ["data_source", "search"]

    def search_filter(self, queryset, name, value):
        return queryset.filter(Q(term__icontains=value) | Q(definition__icontains=value))


class SemanticRelationshipFilter(_SourceFilter):
    table = django_filters.CharFilter(method="table_filter", max_length=200, help_text="Joins this table (either side)")
    state = django_filters.ChoiceFilter(choices=DriftState.choices, help_text="What the last scan saw")
    origin = django_filters.ChoiceFilter(choices=Origin.choices, help_text="sync (a foreign key) or human")
    ordering = StableOrderingFilter(fields=("from_table", "to_table", "updated_at"), tiebreaker="id")

    class Meta:
        model = SemanticRelationship
        fields = ["data_source", "table", "state", "origin"]

    def table_filter(self, queryset, name, value):
        return queryset.filter(Q(from_table__iexact=value) | Q(to_table__iexact=value))
