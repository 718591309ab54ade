"""Query filters of the agent's lists (contract §2), run by ``majed_vanna.api.filtering``."""

import django_filters

from majed_vanna.api.filtering import InRangeIsoDateTimeFilter, StableOrderingFilter, StrictBooleanFilter

from .models import (
    Conversation,
    DataSource,
    Engine,
    Feedback,
    FeedbackStatus,
    Memory,
    MemoryKind,
    MemoryScope,
    MemoryStatus,
    Rating,
    ToolCall,
)
from .models.tools import TOOL_ID_MAX


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


class ConversationFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        field_name="title", lookup_expr="icontains", max_length=200, help_text="Title contains"
    )
    data_source = django_filters.UUIDFilter(field_name="data_source_id", help_text="Data source id")
    since = InRangeIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte", help_text="Active at or after")
    until = InRangeIsoDateTimeFilter(field_name="updated_at", lookup_expr="lt", help_text="Active before")
    ordering = StableOrderingFilter(fields=("created_at", "updated_at", "title"), tiebreaker="id")

    class Meta:
        model = Conversation
        fields = ["search", "data_source", "since", "until"]


class FeedbackFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=FeedbackStatus.choices, help_text="pending, approved or rejected")
    rating = django_filters.ChoiceFilter(choices=Rating.choices, help_text="up or down")
    data_source = django_filters.UUIDFilter(field_name="data_source_id", help_text="Data source id")
    since = InRangeIsoDateTimeFilter(field_name="created_at", lookup_expr="gte", help_text="Given at or after")
    until = InRangeIsoDateTimeFilter(field_name="created_at", lookup_expr="lt", help_text="Given before")
    ordering = StableOrderingFilter(fields=("created_at", "updated_at", "reviewed_at"), tiebreaker="id")

    class Meta:
        model = Feedback
        fields = ["status", "rating", "data_source", "since", "until"]


class ToolCallFilter(django_filters.FilterSet):
    tool = django_filters.CharFilter(max_length=TOOL_ID_MAX, help_text="Tool id (run_sql ...)")
    success = StrictBooleanFilter(help_text="Calls that worked (true) or failed (false)")
    conversation = django_filters.UUIDFilter(field_name="conversation_id", help_text="Conversation id")
    since = InRangeIsoDateTimeFilter(field_name="created_at", lookup_expr="gte", help_text="Called at or after")
    until = InRangeIsoDateTimeFilter(field_name="created_at", lookup_expr="lt", help_text="Called before")

    class Meta:
        model = ToolCall
        fields = ["tool", "success", "conversation", "since", "until"]


class MemoryFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=MemoryKind.choices, help_text="question_sql, text or ddl")
    status = django_filters.ChoiceFilter(choices=MemoryStatus.choices, help_text="draft, approved or retired")
    scope = django_filters.ChoiceFilter(choices=MemoryScope.choices, help_text="global or private")
    data_source = django_filters.UUIDFilter(field_name="data_source_id", help_text="Data source id")
    flagged = StrictBooleanFilter(method="filter_flagged", help_text="Flagged by schema drift (true) or not (false)")
    search = django_filters.CharFilter(
        method="filter_search", max_length=200, help_text="Question, SQL or content contains"
    )
    ordering = StableOrderingFilter(fields=("created_at", "updated_at", "use_count"), tiebreaker="id")

    class Meta:
        model = Memory
        fields = ["kind", "status", "scope", "data_source", "flagged", "search"]

    def filter_flagged(self, queryset, name, value):
        return queryset.exclude(flagged="") if value else queryset.filter(flagged="")

    def filter_search(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(Q(question__icontains=value) | Q(sql__icontains=value) | Q(content__icontains=value))
