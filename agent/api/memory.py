"""``agent/memory`` (contract §5 "Knowledge" → Memory): ``use_chat`` reads what the caller may see (approved global
memories and its own private ones; ``admin_tools``: every global one too), ``admin_tools`` writes. Another's
private memory is 404 for everyone. The rules are ``agent.services.memory``'s; reads are ``agent.selectors``'.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.decorators import action

from majed_vanna.api.filtering import filterset_parameters
from majed_vanna.api.viewsets import BaseViewSet
from majed_vanna.exceptions import ValidationFailedError

from .. import selectors
from ..filters import MemoryFilter
from ..knowledge.memory import saved_questions_search
from ..models import Memory
from ..services import memory as services
from . import memory_serializers as s

READ, WRITE = "use_chat", "admin_tools"
MEMORY_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Memory id")
GATED = "A question→SQL memory's SQL must pass the read-only gate on its data source (422 naming sql and the rule)."


def _source(principal, ref, field="data_source"):
    try:
        return services.source_named(principal, ref)
    except LookupError:
        raise ValidationFailedError(details={field: ["No data source with this id is available to you."]}) from None


@extend_schema_view(
    list=extend_schema(
        summary="Memories you may see, last changed first",
        description="Approved global memories and your own private ones (admin_tools: every global one).",
        parameters=filterset_parameters(MemoryFilter),
        responses=s.MemoryOutputSerializer(many=True),
    ),
    create=extend_schema(
        summary="Save a memory (admin_tools)",
        description=GATED + " Saving a question→SQL whose question (case, spacing and punctuation aside) and data "
        "source a memory of the same scope already holds updates that memory (200, merged) instead of adding one.",
        request=s.MemoryInputSerializer,
        responses={201: s.MemoryOutputSerializer, 200: s.MemoryOutputSerializer},
    ),
    retrieve=extend_schema(summary="One memory", parameters=[MEMORY_ID], responses=s.MemoryOutputSerializer),
    update=extend_schema(
        summary="Replace a memory (admin_tools)",
        description=GATED,
        parameters=[MEMORY_ID],
        request=s.MemoryInputSerializer,
        responses=s.MemoryOutputSerializer,
    ),
    partial_update=extend_schema(
        summary="Change some fields of a memory (admin_tools)",
        description=GATED,
        parameters=[MEMORY_ID],
        request=s.MemoryPatchInputSerializer,
        responses=s.MemoryOutputSerializer,
    ),
    destroy=extend_schema(
        summary="Delete a memory (admin_tools)",
        parameters=[MEMORY_ID],
        responses={200: OpenApiResponse(description="Deleted; data is null")},
    ),
    search=extend_schema(
        summary="The saved questions closest to a question, with scores",
        description="The retrieval the offline answerer uses (BM25, stemming, synonyms) over the question→SQL "
        "memories that may answer you on the data source (default: the default source).",
        request=s.MemorySearchInputSerializer,
        responses=s.MemorySearchOutputSerializer,
    ),
    stats=extend_schema(summary="Counts of the memories you may see", responses=s.MemoryStatsOutputSerializer),
    export=extend_schema(
        summary="The memories you may see, as JSON to import elsewhere", responses=s.MemoryExportOutputSerializer
    ),
    import_memories=extend_schema(
        summary="Import memories (admin_tools): all or nothing",
        description=GATED + " data_source is an id or a name. Private ones become yours. Duplicates are merged.",
        request=s.MemoryImportInputSerializer,
        responses={201: s.MemoryImportOutputSerializer},
    ),
    approve=extend_schema(
        summary="Approve a memory (admin_tools): it answers questions",
        description="A question→SQL memory is gate-checked again; a drift flag is cleared. 409 when already approved.",
        parameters=[MEMORY_ID],
        request=None,
        responses=s.MemoryOutputSerializer,
    ),
    retire=extend_schema(
        summary="Retire a memory (admin_tools): kept, used by nobody",
        description="409 when already retired.",
        parameters=[MEMORY_ID],
        request=None,
        responses=s.MemoryOutputSerializer,
    ),
)
class MemoryViewSet(BaseViewSet):
    queryset = Memory.objects.none()  # for the schema generator only; reads go through selectors
    results_key = "memories"
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    required_permissions = {
        "list": READ,
        "retrieve": READ,
        "search": READ,
        "stats": READ,
        "export": READ,
        "create": WRITE,
        "update": WRITE,
        "partial_update": WRITE,
        "destroy": WRITE,
        "import_memories": WRITE,
        "approve": WRITE,
        "retire": WRITE,
    }
    throttle_scope_prefix = "agent.memory"
    not_found_message = services.MEMORY_NOT_FOUND

    def visible_queryset(self, principal):
        return selectors.memories_visible(principal)

    def _write_data(self, serializer, data) -> dict:
        data = dict(self.validated(serializer, data))
        if "data_source" in data:
            data["data_source"] = _source(self.request.user, data["data_source"])
        return data

    def _out(self, memory):
        return s.MemoryOutputSerializer(selectors.memories_visible(self.request.user).get(pk=memory.pk)).data

    def list(self, request):
        return self.paginated(
            selectors.memory_list(principal=request.user, params=request.query_params), s.MemoryOutputSerializer
        )

    def retrieve(self, request, pk=None):
        return self.ok(s.MemoryOutputSerializer(self.get_object()).data)

    def create(self, request):
        data = self._write_data(s.MemoryInputSerializer, request.data)
        memory, created = services.memory_create(actor=request.user, data=data)
        if created:
            return self.created(self._out(memory), message="Memory saved")
        return self.ok(self._out(memory), message="An existing memory held this question; it was updated")

    def update(self, request, pk=None):
        memory = self.get_object()
        data = self._write_data(s.MemoryInputSerializer, request.data)
        return self.ok(self._out(services.memory_update(actor=request.user, memory=memory, data=data)))

    def partial_update(self, request, pk=None):
        memory = self.get_object()
        data = self._write_data(s.MemoryPatchInputSerializer, request.data)
        return self.ok(self._out(services.memory_update(actor=request.user, memory=memory, data=data)))

    def destroy(self, request, pk=None):
        services.memory_delete(actor=request.user, memory=self.get_object())
        return self.deleted(message="Memory deleted")

    @action(detail=False, methods=["post"])
    def search(self, request):
        data = self.validated(s.MemorySearchInputSerializer, request.data)
        source = _source(request.user, data["data_source"]) or selectors.data_source_default()
        if source is not None and not selectors.data_sources_visible(request.user).filter(pk=source.pk).exists():
            source = None  # the default source is not one the caller may use: only memories of every source
        found = saved_questions_search(request.user, source, data["query"], limit=data["limit"])
        named = None if source is None else {"id": str(source.pk), "name": source.name}
        return self.ok({"query": data["query"], "data_source": named, "results": found})

    @action(detail=False, methods=["get"])
    def stats(self, request):
        return self.ok(selectors.memory_stats(request.user))

    @action(detail=False, methods=["get"])
    def export(self, request):
        memories = selectors.memories_visible(request.user).order_by("created_at", "id")
        return self.ok({"memories": [services.export_item(memory) for memory in memories]})

    @action(detail=False, methods=["post"], url_path="import")
    def import_memories(self, request):
        body = request.data if isinstance(request.data, dict) else {"memories": request.data}
        items = self.validated(s.MemoryImportInputSerializer, body)["memories"]
        for i, item in enumerate(items):
            item["data_source"] = _source(request.user, item.get("data_source"), field=f"items[{i}].data_source")
        counts = services.memory_import(actor=request.user, items=items)
        return self.created(counts, message=f"{counts['created']} memories imported, {counts['merged']} merged")

    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self.ok(self._out(services.memory_approve(actor=request.user, memory=self.get_object())))

    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        return self.ok(self._out(services.memory_retire(actor=request.user, memory=self.get_object())))
