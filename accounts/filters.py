"""Query filters for the users and audit-log lists (contract §2, §5). A bad value is 422, never 500."""

from datetime import UTC

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Q
from django_filters.fields import IsoDateTimeField

from .models import AuditLog, User
from .permissions import Role

BOOLEAN_CHOICES = [("true", "true"), ("false", "false"), ("1", "1"), ("0", "0")]


class StrictBooleanFilter(django_filters.TypedChoiceFilter):
    """``true``/``false`` (or ``1``/``0``); anything else is a validation error, not silently ignored."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", BOOLEAN_CHOICES)
        kwargs.setdefault("coerce", lambda value: value in (True, "true", "1"))
        super().__init__(*args, **kwargs)


class InRangeIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time that also exists in UTC: ``9999-12-31T23:59:59-23:59`` parses but is year 10000 in
    UTC, which neither Python nor the database can compare against (it was a 500)."""

    def to_python(self, value):
        result = super().to_python(value)
        if result is not None:
            try:
                result.astimezone(UTC)
            except OverflowError:
                raise ValidationError("Date-time out of range.", code="invalid")
        return result


class InRangeIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = InRangeIsoDateTimeField


class UserFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)
    active = StrictBooleanFilter(field_name="is_active")
    search = django_filters.CharFilter(method="filter_search", max_length=254)
    ordering = django_filters.OrderingFilter(
        fields=(
            ("username", "username"),
            ("role", "role"),
            ("is_active", "active"),
            ("created_at", "created_at"),
            ("updated_at", "updated_at"),
            ("last_login", "last_login"),
        )
    )

    class Meta:
        model = User
        fields = ["role", "active", "search"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(username__icontains=value))


class AuditLogFilter(django_filters.FilterSet):
    action = django_filters.CharFilter(max_length=64)
    user_id = django_filters.CharFilter(max_length=64)
    resource = django_filters.CharFilter(max_length=64)
    success = StrictBooleanFilter()
    since = InRangeIsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    until = InRangeIsoDateTimeFilter(field_name="timestamp", lookup_expr="lte")

    class Meta:
        model = AuditLog
        fields = ["action", "user_id", "resource", "success", "since", "until"]
