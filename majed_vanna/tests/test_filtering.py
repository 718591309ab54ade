"""The one list-filtering pattern: a FilterSet run by ``filter_queryset`` (422 with per-field details naming the
allowed choices) and documented by ``filterset_parameters`` with real types."""

import django_filters
import pytest

from accounts.models import User
from accounts.tests.factories import UserFactory
from majed_vanna.api.filtering import (
    InRangeIsoDateTimeFilter,
    StableOrderingFilter,
    StrictBooleanFilter,
    filter_queryset,
    filterset_parameters,
)
from majed_vanna.exceptions import ValidationFailedError


class _Users(django_filters.FilterSet):
    active = StrictBooleanFilter(field_name="is_active")
    role = django_filters.ChoiceFilter(choices=[("admin", "Admin"), ("normal", "Normal")])
    since = InRangeIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    name = django_filters.CharFilter(field_name="username", max_length=10, help_text="Exact username.")
    ordering = StableOrderingFilter(fields=(("created_at", "created_at"), ("role", "role")))

    class Meta:
        model = User
        fields = ["active", "role", "since", "name"]


def _details(params) -> dict:
    with pytest.raises(ValidationFailedError) as caught:
        filter_queryset(_Users, params, User.objects.all())
    return caught.value.details


@pytest.mark.django_db
def test_bad_values_are_422_per_field_and_choice_errors_name_the_allowed_values():
    details = _details({"active": "perhaps", "role": "root", "ordering": "bogus", "since": "yesterday"})
    assert set(details) == {"active", "role", "ordering", "since"}
    assert details["active"] == ["Select a valid choice. Allowed: true, false, 1, 0."]
    assert details["role"] == ["Select a valid choice. Allowed: admin, normal."]
    assert details["ordering"] == [
        "Select a valid choice. Allowed: created_at, -created_at, role, -role.",
    ]
    assert details["since"] and "Allowed" not in details["since"][0]


@pytest.mark.django_db
def test_a_too_long_value_is_422_and_unknown_parameters_are_left_alone():
    assert set(_details({"name": "x" * 11})) == {"name"}
    assert list(filter_queryset(_Users, {"page": "2", "per_page": "5"}, User.objects.none())) == []


@pytest.mark.django_db
def test_ordering_ends_on_the_tiebreaker_in_the_first_key_direction():
    queryset = filter_queryset(_Users, {"ordering": "-created_at"}, User.objects.all())
    assert queryset.query.order_by == ("-created_at", "-id")
    queryset = filter_queryset(_Users, {"ordering": "role,-created_at"}, User.objects.all())
    assert queryset.query.order_by == ("role", "-created_at", "id")


@pytest.mark.django_db
def test_valid_values_filter():
    kept = UserFactory(role="admin")
    UserFactory(role="normal", is_active=False)
    assert list(filter_queryset(_Users, {"role": "admin", "active": "1"}, User.objects.all())) == [kept]


def test_parameters_carry_real_types():
    parameters = {p.name: p for p in filterset_parameters(_Users)}
    assert parameters["active"].type == {"type": "boolean"}
    assert parameters["role"].type == {"type": "string", "enum": ["admin", "normal"]}
    assert parameters["since"].type == {"type": "string", "format": "date-time"}
    assert parameters["name"].type == {"type": "string", "maxLength": 10}
    assert parameters["name"].description == "Exact username."
    ordering = parameters["ordering"]
    assert ordering.type == {
        "type": "array",
        "items": {"type": "string", "enum": ["created_at", "-created_at", "role", "-role"]},
    }
    assert ordering.style == "form" and ordering.explode is False


def _query_parameters(schema, path) -> dict:
    return {p["name"]: p for p in schema["paths"][path]["get"]["parameters"] if p["in"] == "query"}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    return response.json()


def test_every_list_documents_its_filters_with_types_and_page_bounds(schema):
    users = _query_parameters(schema, "/api/v1/users")
    assert users["active"]["schema"] == {"type": "boolean"}
    assert users["role"]["schema"]["enum"] == ["admin", "superuser", "normal"]
    assert "-created_at" in users["ordering"]["schema"]["items"]["enum"]
    assert users["search"]["schema"] == {"type": "string", "maxLength": 254}
    audit = _query_parameters(schema, "/api/v1/audit-logs")
    assert audit["since"]["schema"] == {"type": "string", "format": "date-time"}
    assert audit["until"]["schema"] == {"type": "string", "format": "date-time"}
    assert audit["success"]["schema"] == {"type": "boolean"}
    clients = _query_parameters(schema, "/api/v1/integrations/clients")
    assert clients["status"]["schema"]["enum"] == ["active", "revoked"]
    backups = _query_parameters(schema, "/api/v1/backups")
    assert backups["status"]["schema"]["enum"] == ["pending", "running", "succeeded", "failed"]
    for path in ("/api/v1/users", "/api/v1/audit-logs", "/api/v1/integrations/clients", "/api/v1/backups"):
        page = _query_parameters(schema, path)
        assert page["page"]["schema"]["minimum"] == 1
        assert (page["per_page"]["schema"]["minimum"], page["per_page"]["schema"]["maximum"]) == (1, 100)
