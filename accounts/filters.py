"""Query filters for the users and audit-log lists (contract §2, §5), run by ``majed_vanna.api.filtering``."""

import django_filters
from django.db.models import Q

from majed_vanna.api.filtering import InRangeIsoDateTimeFilter, StableOrderingFilter, StrictBooleanFilter

from .models import AuditLog, User
from .permissions import Role


class UserFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)
    active = StrictBooleanFilter(field_name="is_active")
    search = django_filters.CharFilter(
        method="filter_search", max_length=254, help_text="Part of the username (case-insensitive)."
    )
    ordering = StableOrderingFilter(
        fields=(
            ("username", "username"),
            ("role", "role"),
            ("is_active", "active"),
            ("created_at", "created_at"),
            ("updated_at", "updated_at"),
            ("last_login", "last_login"),
        ),
        help_text="Sort keys, comma-separated; a leading '-' sorts descending. Default: username.",
    )

    class Meta:
        model = User
        fields = ["role", "active", "search"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(username__icontains=value))


class AuditLogFilter(django_filters.FilterSet):
    action = django_filters.CharFilter(max_length=64, help_text="A dotted verb, e.g. auth.login_failed.")
    user_id = django_filters.CharFilter(max_length=64, help_text="The actor: a user id or an integration client id.")
    resource = django_filters.CharFilter(max_length=64, help_text="The target's kind, e.g. user.")
    success = StrictBooleanFilter()
    since = InRangeIsoDateTimeFilter(
        field_name="timestamp", lookup_expr="gte", help_text="ISO 8601 date-time, inclusive."
    )
    until = InRangeIsoDateTimeFilter(
        field_name="timestamp", lookup_expr="lte", help_text="ISO 8601 date-time, inclusive."
    )

    class Meta:
        model = AuditLog
        fields = ["action", "user_id", "resource", "success", "since", "until"]
