"""``BaseViewSet`` and ``BaseAPIView``: the envelope, pagination and the one request policy (authentication,
password gate, audited permission check, throttle, idempotency: ``majed_vanna.api.policy``) for every DRF
endpoint (contract §1-§4, §6).

Subclasses write only the actions the contract lists and call one service per action. They declare, never
override: ``public``, ``required_permissions`` (one name, or by action / HTTP method), ``users_only``,
``allow_when_password_change_required``, ``throttle_scopes`` (a scope name, or names by action / method; see
``majed_vanna.api.scopes``), ``throttled = False`` for an endpoint that counts its own limits, and
``idempotent = False`` for one that must never store its response for replays.

``BaseViewSet`` narrows the queryset to the caller in one place (``visible_queryset``), as NetBox's
``BaseViewSet.initial`` does: ``get_object()`` then answers 404 for an object the caller may not see, and for a
malformed id, without each view writing its own lookup.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status as http
from rest_framework.metadata import SimpleMetadata
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from majed_vanna.exceptions import NotFoundError

from . import idempotency, policy
from .permissions import declared_keys, required_permission


class _Replayed(Exception):
    def __init__(self, replay: idempotency.Replay):
        self.replay = replay


class EndpointMetadata(SimpleMetadata):
    """``OPTIONS``: name, description, renders and parses, without DRF's per-field ``actions``.

    DRF builds ``actions`` from the view's ``serializer_class`` (and ``get_object()`` on detail routes); our
    views have one serializer per operation and no such attribute, so the introspection answered 500.
    """

    def determine_actions(self, request, view):
        return {}


class EnvelopeAPIMixin:
    metadata_class = EndpointMetadata
    throttle_classes: list = []  # the policy throttles (named scopes), not DRF
    public = False  # anonymous callers allowed
    users_only = False  # True: integration clients are refused (403), whatever their permissions
    allow_when_password_change_required = False
    results_key = "results"
    throttle_scope_prefix: str | None = None  # scope of an action not in ``throttle_scopes``: "<prefix>.<action>"
    throttle_scopes: dict[str, str] | str = {}  # one scope for the whole view, or by action / method
    throttled = True
    idempotent = True
    required_permissions: dict[str, str] | str | None = None

    def get_permissions(self):
        # Read by drf-spectacular (security requirements) and ``get_object``; the policy decides access.
        return [AllowAny()] if self.public else [IsAuthenticated()]

    def throttle_scope(self, request) -> str | None:
        if not self.throttled:
            return None
        if isinstance(self.throttle_scopes, str):
            return self.throttle_scopes
        for key in declared_keys(self, request):
            if key in self.throttle_scopes:
                return self.throttle_scopes[key]
        action = getattr(self, "action", None)
        prefix = self.throttle_scope_prefix or type(self).__name__.removesuffix("ViewSet").removesuffix("View").lower()
        return f"{prefix}.{action or request.method.lower()}"

    def policy_for(self, request) -> policy.Policy:
        return policy.Policy(
            public=self.public,
            permission=required_permission(self, request),
            users_only=self.users_only,
            password_change_ok=self.allow_when_password_change_required,
            scope=self.throttle_scope(request),
            idempotent=self.idempotent,
        )

    # --- responses
    @staticmethod
    def ok(data=None, message: str | None = None, status: int = http.HTTP_200_OK, headers=None) -> Response:
        response = Response(data, status=status, headers=headers)
        response.message = message
        return response

    def created(self, data, message: str | None = "Created successfully") -> Response:
        return self.ok(data, message, http.HTTP_201_CREATED)

    def accepted(self, data, message: str | None = "Accepted for processing") -> Response:
        return self.ok(data, message, http.HTTP_202_ACCEPTED)

    def deleted(self, message: str = "Deleted successfully") -> Response:
        return self.ok(None, message)

    # --- input
    def validated(self, serializer_class, data, **context) -> dict:
        serializer = serializer_class(data=data, context={"request": self.request, "view": self, **context})
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def validated_query(self, serializer_class) -> dict:
        return self.validated(serializer_class, self.request.query_params)

    @property
    def paginator(self):
        """The pagination class instance; ``BaseAPIView`` (a plain APIView) has none of its own."""
        if not hasattr(self, "_paginator"):
            pagination_class = getattr(self, "pagination_class", None) or api_settings.DEFAULT_PAGINATION_CLASS
            self._paginator = pagination_class()
        return self._paginator

    def paginated(self, queryset, serializer_class, **context) -> Response:
        paginator = self.paginator
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        items = serializer_class(page, many=True, context={"request": self.request, **context}).data
        return Response(paginator.get_paginated_data(items))

    # --- the request cycle
    def initial(self, request, *args, **kwargs):
        """DRF's content negotiation and versioning, then the request policy (instead of DRF's
        authentication, permission and throttle steps)."""
        self._idempotency_claim = None
        self.format_kwarg = self.get_format_suffix(**kwargs)
        request.accepted_renderer, request.accepted_media_type = self.perform_content_negotiation(request)
        request.version, request.versioning_scheme = self.determine_version(request, *args, **kwargs)
        outcome = policy.enforce(request, self.policy_for(request))
        if isinstance(outcome, idempotency.Replay):
            raise _Replayed(outcome)
        self._idempotency_claim = outcome

    def handle_exception(self, exc):
        if isinstance(exc, _Replayed):
            response = self.ok(exc.replay.data, exc.replay.message, exc.replay.status)
            response["Idempotent-Replayed"] = "true"
            return response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        claim = getattr(self, "_idempotency_claim", None)
        if claim is not None:
            self._idempotency_claim = None
            if response.status_code >= 400:
                # Nothing was done: forget the key so a corrected retry can use it.
                idempotency.release(claim)
            else:
                idempotency.finish(
                    claim, status=response.status_code, data=response.data, message=getattr(response, "message", None)
                )
        return response


class BaseViewSet(EnvelopeAPIMixin, GenericViewSet):
    """Base for resource endpoints; routes through DRF routers. Never expose extra verbs.

    A resource with objects overrides ``visible_queryset(principal)`` with its app's selector (what this
    caller may see); ``get_object()`` looks the URL's id up in it only.
    """

    not_found_message = "Resource not found"

    def visible_queryset(self, principal):
        """The objects ``principal`` may see; by default the view's ``queryset``."""
        return super().get_queryset()

    def get_queryset(self):
        return self.visible_queryset(self.request.user)

    def get_object(self):
        lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field
        value = self.kwargs[lookup_url_kwarg]
        try:
            obj = self.get_queryset().filter(**{self.lookup_field: value}).first()
        except (ValueError, TypeError, DjangoValidationError):  # a malformed id names nothing: 404
            obj = None
        if obj is None:
            raise NotFoundError(self.not_found_message)
        self.check_object_permissions(self.request, obj)
        return obj


class BaseAPIView(EnvelopeAPIMixin, APIView):
    """Base for single-operation endpoints (login, health, config)."""
