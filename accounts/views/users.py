"""``users`` endpoints (contract §4, §5 "Users").

View-level permissions: list ``read_user``, create ``create_user``, destroy ``delete_user``, unlock and
reset-password ``update_user``. Retrieve, update and conversations need none at view level because
everyone may read and edit their own profile; the selector then hides other users (404) unless the caller
may manage them, and the services refuse what the caller may not do to a visible user (403). Integration
clients are refused every action (403, audited): they are not users and have no profile.
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, OpenApiTypes, extend_schema, extend_schema_view
from rest_framework.decorators import action

from majed_vanna.api.filtering import filterset_parameters
from majed_vanna.api.viewsets import BaseViewSet

from .. import selectors, services
from ..filters import UserFilter
from ..serializers import (
    ConversationListOutputSerializer,
    ConversationSummarySerializer,
    ResetPasswordOutputSerializer,
    UserCreateInputSerializer,
    UserListOutputSerializer,
    UserOutputSerializer,
    UserUpdateInputSerializer,
)

USER_ID = OpenApiParameter("user_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="Page number, from 1."),
    OpenApiParameter("per_page", int, description="Items per page, 1 to 100 (default 20)."),
]


@extend_schema_view(
    retrieve=extend_schema(parameters=[USER_ID]),
    update=extend_schema(parameters=[USER_ID]),
    partial_update=extend_schema(parameters=[USER_ID]),
    destroy=extend_schema(parameters=[USER_ID]),
    conversations=extend_schema(parameters=[USER_ID, *PAGE_PARAMETERS]),
    unlock=extend_schema(parameters=[USER_ID]),
    reset_password=extend_schema(parameters=[USER_ID]),
)
@extend_schema(tags=["users"])
class UserViewSet(BaseViewSet):
    results_key = "users"
    users_only = True  # integration clients have no profile here: 403 on every action, audited
    serializer_class = UserOutputSerializer  # for the schema; each action names its own serializers
    lookup_url_kwarg = "user_id"
    lookup_value_regex = "[^/]+"
    required_permissions = {
        "list": "read_user",
        "create": "create_user",
        "destroy": "delete_user",
        "unlock": "update_user",
        "reset_password": "update_user",
    }
    throttle_scope_prefix = "users"
    throttle_scopes = {"list": "users.list", "create": "users.create", "destroy": "users.delete"}

    not_found_message = "User not found"

    def visible_queryset(self, principal):
        return selectors.user_visible_queryset(actor=principal)

    def _out(self, user) -> dict:
        locked = selectors.user_lock_states(users=[user])
        return UserOutputSerializer(user, context={"locked_usernames": locked}).data

    @extend_schema(
        parameters=filterset_parameters(UserFilter),
        responses={200: UserListOutputSerializer},
        description="Users the caller may see (admins: everyone; superusers: normal users and themselves).",
    )
    def list(self, request):
        queryset = selectors.user_list(actor=request.user, params=request.query_params)
        page = self.paginator.paginate_queryset(queryset, request, view=self)
        locked = selectors.user_lock_states(users=page)
        items = UserOutputSerializer(page, many=True, context={"locked_usernames": locked}).data
        return self.ok(self.paginator.get_paginated_data(items))

    @extend_schema(request=UserCreateInputSerializer, responses={201: UserOutputSerializer})
    def create(self, request):
        data = self.validated(UserCreateInputSerializer, request.data)
        user = services.user_create(actor=request.user, **data)
        return self.created(self._out(user), "User created")

    @extend_schema(responses={200: UserOutputSerializer})
    def retrieve(self, request, user_id=None):
        return self.ok(self._out(self.get_object()))

    @extend_schema(
        request=UserUpdateInputSerializer,
        responses={200: UserOutputSerializer},
        description="Replace username, role, active, must_change_password. On yourself only the username may change.",
    )
    def update(self, request, user_id=None):
        return self._update(request, partial=False)

    @extend_schema(
        request=UserUpdateInputSerializer(partial=True),
        responses={200: UserOutputSerializer},
        description="Change some of username, role, active, must_change_password. On yourself only the username.",
    )
    def partial_update(self, request, user_id=None):
        return self._update(request, partial=True)

    def _update(self, request, *, partial: bool):
        user = self.get_object()
        serializer = UserUpdateInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        user = services.user_update(actor=request.user, user=user, data=dict(serializer.validated_data))
        return self.ok(self._out(user), "User updated")

    @extend_schema(
        description="Soft delete: the user becomes inactive and their tokens stop working.",
        responses={200: OpenApiResponse(description="Deleted; data is null")},
    )
    def destroy(self, request, user_id=None):
        services.user_delete(actor=request.user, user=self.get_object())
        return self.deleted("User deleted")

    @extend_schema(
        responses={200: ConversationListOutputSerializer},
        description="The user's conversations, newest first (the agent app's conversation store).",
    )
    @action(detail=True, methods=["get"])
    def conversations(self, request, user_id=None):
        user = self.get_object()
        self.results_key = "conversations"
        items = self.paginator.paginate_queryset(selectors.user_conversation_list(user=user), request, view=self)
        return self.ok(self.paginator.get_paginated_data(ConversationSummarySerializer(items, many=True).data))

    @extend_schema(request=None, responses={200: UserOutputSerializer})
    @action(detail=True, methods=["post"])
    def unlock(self, request, user_id=None):
        user = self.get_object()
        was_locked = services.user_unlock(actor=request.user, user=user)
        return self.ok(self._out(user), "User unlocked" if was_locked else "User was not locked")

    @extend_schema(request=None, responses={200: ResetPasswordOutputSerializer})
    @action(detail=True, methods=["post"], url_path="reset-password", url_name="reset-password")
    def reset_password(self, request, user_id=None):
        user = self.get_object()
        temporary = services.user_reset_password(actor=request.user, user=user)
        data = {
            "user_id": str(user.pk),
            "username": user.username,
            "temporary_password": temporary,
            "must_change_password": True,
        }
        return self.ok(data, "Temporary password issued; it is shown only once")
