"""``BaseViewSet`` and ``BaseAPIView``: the envelope, pagination, throttle headers, idempotency and
permission checks every endpoint inherits (contract §1-§3, §6).

Subclasses write only the actions the contract lists and call one service per action.
"""

from rest_framework import status as http
from rest_framework.metadata import SimpleMetadata
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from . import idempotency
from .permissions import HasRequiredPermission, PasswordChangeGate, UsersOnlyGate


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
    permission_classes = [IsAuthenticated, PasswordChangeGate, UsersOnlyGate, HasRequiredPermission]
    users_only = False  # True: integration clients are refused (403), whatever their permissions
    results_key = "results"
    throttle_rates: dict[str, str] = {}
    required_permissions: dict[str, str] | str | None = None

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
        self._idempotency_claim = None
        super().initial(request, *args, **kwargs)
        outcome = idempotency.begin(request)
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
    """Base for resource endpoints; routes through DRF routers. Never expose extra verbs."""


class BaseAPIView(EnvelopeAPIMixin, APIView):
    """Base for single-operation endpoints (login, health, config)."""
