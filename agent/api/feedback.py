"""``agent/feedback`` (contract §5 "Knowledge"): callers with ``use_chat`` rate their own answers; ``admin_tools``
reviewers list the queue and approve (optionally edited) or reject. The rules are ``agent.services.feedback``'s.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.decorators import action

from majed_vanna.api.filtering import filterset_parameters
from majed_vanna.api.viewsets import BaseViewSet

from .. import selectors
from ..filters import FeedbackFilter
from ..models import Feedback
from ..services.feedback import FEEDBACK_NOT_FOUND, feedback_approve, feedback_create, feedback_reject
from .feedback_serializers import (
    FeedbackApproveInputSerializer,
    FeedbackCreateInputSerializer,
    FeedbackOutputSerializer,
    FeedbackRejectInputSerializer,
)

FEEDBACK_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Feedback id")
REVIEW = "admin_tools"


@extend_schema_view(
    list=extend_schema(
        summary="The feedback review queue (admin_tools), newest first",
        description="Filter with status=pending for what awaits review.",
        parameters=filterset_parameters(FeedbackFilter),
        responses=FeedbackOutputSerializer(many=True),
    ),
    create=extend_schema(
        summary="Rate one of your answers (thumbs up or down), optionally with a corrected SQL",
        description=(
            "Only the owner of the answer may rate it (anyone else's message is 404). A corrected_sql must pass "
            "the read-only gate on the answer's data source: a refusal is 422 VALIDATION_ERROR whose details name "
            "corrected_sql and the rule. The question→SQL pair (the correction, else a thumbs up's own SQL) becomes "
            "a draft memory private to you, and the feedback waits for review: nobody else's answers use it until "
            "an admin_tools reviewer approves it. Rating the same answer again while pending replaces the "
            "feedback (200); after review it is 409."
        ),
        request=FeedbackCreateInputSerializer,
        responses={201: FeedbackOutputSerializer, 200: FeedbackOutputSerializer},
    ),
    approve=extend_schema(
        summary="Approve feedback (admin_tools): its question→SQL becomes a global, approved memory",
        description="Optionally with an edited question and/or sql; the SQL is checked by the read-only gate "
        "again (422 naming sql and the rule when refused). 409 when already reviewed.",
        parameters=[FEEDBACK_ID],
        request=FeedbackApproveInputSerializer,
        responses=FeedbackOutputSerializer,
    ),
    reject=extend_schema(
        summary="Reject feedback (admin_tools): its draft memory is retired, used by nobody",
        description="409 when already reviewed.",
        parameters=[FEEDBACK_ID],
        request=FeedbackRejectInputSerializer,
        responses=FeedbackOutputSerializer,
    ),
)
class FeedbackViewSet(BaseViewSet):
    queryset = Feedback.objects.none()  # for the schema generator only; reads go through selectors
    results_key = "feedback"
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    required_permissions = {"list": REVIEW, "create": "use_chat", "approve": REVIEW, "reject": REVIEW}
    throttle_scope_prefix = "agent.feedback"
    not_found_message = FEEDBACK_NOT_FOUND

    def visible_queryset(self, principal):
        return selectors.feedback_reviewable(principal)

    def list(self, request):
        return self.paginated(
            selectors.feedback_list(principal=request.user, params=request.query_params), FeedbackOutputSerializer
        )

    def create(self, request):
        data = self.validated(FeedbackCreateInputSerializer, request.data)
        feedback, created = feedback_create(principal=request.user, **data)
        body = FeedbackOutputSerializer(feedback).data
        if created:
            return self.created(body, message="Feedback recorded; it waits for review")
        return self.ok(body, message="Feedback updated; it waits for review")

    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        feedback = self.get_object()  # an unknown id is 404 whatever the body
        data = self.validated(FeedbackApproveInputSerializer, request.data)
        feedback = feedback_approve(feedback=feedback, actor=request.user, **data)
        return self.ok(FeedbackOutputSerializer(feedback).data, message="Feedback approved")

    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        feedback = self.get_object()
        data = self.validated(FeedbackRejectInputSerializer, request.data)
        feedback = feedback_reject(feedback=feedback, actor=request.user, **data)
        return self.ok(FeedbackOutputSerializer(feedback).data, message="Feedback rejected")
