"""The one list-filtering pattern (contract §2): a django-filter ``FilterSet`` per list, run by a selector.

``filter_queryset()`` runs it and turns a bad value into 422 VALIDATION_ERROR with ``details`` per field (never a
500, never silently ignored); a choice error names the allowed values. ``filterset_parameters()`` documents the same
FilterSet in the OpenAPI schema with real types (booleans, date-times, enums, length bounds), so the schema and the
validation cannot drift apart.
"""

from datetime import UTC

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django_filters.constants import EMPTY_VALUES
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import OpenApiParameter

from majed_vanna.exceptions import ValidationFailedError

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


class StableOrderingFilter(django_filters.OrderingFilter):
    """``ordering`` that always ends on a unique column (``tiebreaker``, in the direction of the first key), so
    pages never repeat or skip rows of equal keys, and an index on ``(key, tiebreaker)`` serves the sort."""

    def __init__(self, *args, tiebreaker: str = "id", **kwargs):
        self.tiebreaker = tiebreaker
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        ordering = [self.get_ordering_value(param) for param in value]
        if self.tiebreaker not in {field.lstrip("-") for field in ordering}:
            ordering.append(f"-{self.tiebreaker}" if ordering[0].startswith("-") else self.tiebreaker)
        return qs.order_by(*ordering)


def _allowed(field) -> list[str]:
    return [str(value) for value, _label in getattr(field, "choices", ()) if value not in ("", None)]


def _messages(form) -> dict[str, list[str]]:
    details = {}
    for name, errors in form.errors.as_data().items():
        field = form.fields.get(name)
        messages = []
        for error in errors:
            if error.code == "invalid_choice" and field is not None and _allowed(field):
                messages.append(f"Select a valid choice. Allowed: {', '.join(_allowed(field))}.")
            else:
                messages.extend(str(message) for message in error.messages)
        details[name] = messages
    return details


def filter_queryset(filterset_class: type[django_filters.FilterSet], params, queryset: QuerySet) -> QuerySet:
    """``queryset`` narrowed by ``params`` through ``filterset_class``; 422 with per-field ``details`` if a
    value is bad. Parameters the FilterSet does not declare (``page``, ``per_page``) are left alone."""
    filterset = filterset_class(params, queryset=queryset)
    if not filterset.is_valid():
        raise ValidationFailedError(details=_messages(filterset.form))
    return filterset.qs


def _schema(filter_) -> tuple[dict, dict]:
    """The OpenAPI schema of one filter's value and extra ``OpenApiParameter`` keywords."""
    field = filter_.field
    if isinstance(filter_, django_filters.OrderingFilter):
        items = {"type": "string", "enum": _allowed(field)}
        return {"type": "array", "items": items}, {"style": "form", "explode": False}
    if isinstance(filter_, StrictBooleanFilter):
        return {"type": "boolean"}, {}
    if isinstance(filter_, django_filters.ChoiceFilter):
        return {"type": "string", "enum": _allowed(field)}, {}
    if isinstance(filter_, django_filters.IsoDateTimeFilter):
        return {"type": "string", "format": "date-time"}, {}
    if isinstance(filter_, django_filters.UUIDFilter):
        return {"type": "string", "format": "uuid"}, {}
    schema = {"type": "string"}
    if getattr(field, "max_length", None):
        schema["maxLength"] = field.max_length
    return schema, {}


def filterset_parameters(filterset_class: type[django_filters.FilterSet]) -> list[OpenApiParameter]:
    """Query parameters of ``filterset_class`` for ``extend_schema(parameters=...)``. A filter's description is
    its ``help_text`` (``Filter(..., help_text="...")``); ordering says how to reverse and combine keys."""
    parameters = []
    for name, filter_ in filterset_class.base_filters.items():
        schema, extra = _schema(filter_)
        description = filter_.extra.get("help_text") or ""
        if isinstance(filter_, django_filters.OrderingFilter):
            description = description or "Sort keys, comma-separated; a leading '-' sorts descending."
        parameters.append(OpenApiParameter(name, schema, OpenApiParameter.QUERY, description=description, **extra))
    return parameters
