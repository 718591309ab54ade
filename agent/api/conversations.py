"""``agent/conversations`` (contract §5 "Agent"): callers with ``use_chat`` (users and integration clients)
list, read and delete their own conversations and page through their messages; ``system_admin`` sees and deletes
every one. Anyone else's conversation is 404, as if it did not exist (``visible_queryset``)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.decorators import action

from majed_vanna.api.filtering import filterset_parameters
from majed_vanna.api.viewsets import BaseViewSet

from .. import selectors
from ..filters import ConversationFilter
from ..models import Conversation
from ..services.conversations import conversation_delete
from .conversation_serializers import ConversationOutputSerializer, MessageOutputSerializer

CONVERSATION_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Conversation id")
WHO = " Own conversations; system_admin sees every one; another caller's is 404."


@extend_schema_view(
    list=extend_schema(
        summary="Conversations, newest activity first",
        description=WHO.strip(),
        parameters=filterset_parameters(ConversationFilter),
        responses=ConversationOutputSerializer(many=True),
    ),
    retrieve=extend_schema(
        summary="One conversation",
        description=WHO.strip(),
        parameters=[CONVERSATION_ID],
        responses=ConversationOutputSerializer,
    ),
    destroy=extend_schema(
        summary="Delete a conversation and its messages (audited conversation.delete)",
        description=WHO.strip(),
        parameters=[CONVERSATION_ID],
        responses={200: OpenApiResponse(description="Deleted; data is null")},
    ),
    messages=extend_schema(
        summary="A conversation's messages, oldest first (paged)",
        description="Each message with its events, lineage and token usage." + WHO,
        parameters=[CONVERSATION_ID],
        responses=MessageOutputSerializer(many=True),
    ),
)
class ConversationViewSet(BaseViewSet):
    queryset = Conversation.objects.none()  # for the schema generator only; reads go through selectors
    results_key = "conversations"
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    required_permissions = "use_chat"
    throttle_scope_prefix = "agent.conversations"
    not_found_message = selectors.CONVERSATION_NOT_FOUND

    def visible_queryset(self, principal):
        return selectors.conversations_visible(principal)

    def list(self, request):
        queryset = selectors.conversation_list(principal=request.user, params=request.query_params)
        return self.paginated(queryset, ConversationOutputSerializer)

    def retrieve(self, request, pk=None):
        return self.ok(ConversationOutputSerializer(self.get_object()).data)

    def destroy(self, request, pk=None):
        conversation_delete(conversation=self.get_object(), actor=request.user)
        return self.deleted(message="Conversation deleted")

    @action(detail=True, methods=["get"])
    def messages(self, request, pk=None):
        conversation = self.get_object()
        self.results_key = "messages"
        return self.paginated(selectors.conversation_messages(conversation), MessageOutputSerializer)
