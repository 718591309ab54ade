"""Writes of the agent's memory (contract §5 "Knowledge" → Memory; README "Memory").

* ``memory_create`` / ``memory_update`` / ``memory_delete`` (``admin_tools``): kinds ``question_sql`` (question,
  sql), ``text`` (content, tags) and ``ddl`` (content). A ``question_sql`` memory's SQL must pass the read-only gate
  on its data source (none named: the default source) on every save that changes it; a refusal is 422 naming
  ``sql`` and the rule. Saving a ``question_sql`` whose normalised question and data source an existing memory of
  the same visibility already holds updates that memory (duplicates merged) instead of adding a second.
* ``private`` memories belong to whoever saved them (a user or an integration client); nobody else ever sees them.
* ``memory_approve`` / ``memory_retire``: ``draft`` → ``approved`` → ``retired`` (approving again re-checks the
  SQL and clears a drift flag).
* ``memory_import``: a list in the export's format, every item checked first, then all stored or none.

Every write is audited ``memory.<action>`` and makes the next search rebuild the retrieval index.
"""

import re
import uuid

from asgiref.sync import async_to_sync
from django.db import transaction

from agent.sql.types import SqlRefused
from majed_vanna.api.callers import principal_identity
from majed_vanna.audit import audit_record
from majed_vanna.exceptions import ConflictError, ValidationFailedError

from .. import selectors
from ..knowledge.memory import memory_index_invalidate
from ..models import DataSource, Memory, MemoryKind, MemoryScope, MemoryStatus

RESOURCE = "memory"
MEMORY_NOT_FOUND = "Memory not found"
FIELDS = ("kind", "question", "sql", "content", "tags", "data_source", "scope", "status")
_PUNCTUATION = re.compile(r"[\s?!.,;:]+")


def normalised_question(question: str) -> str:
    """What two questions share when they are "the same": case, spacing and punctuation aside."""
    return _PUNCTUATION.sub(" ", (question or "").casefold()).strip()


def _owner_fields(principal) -> dict:
    client_id = getattr(principal, "integration_client_id", None)
    if client_id:
        return {"owner": None, "owner_client_id": str(client_id)}
    return {"owner": principal, "owner_client_id": ""}


def _gate(*, source: DataSource | None, sql: str, principal) -> None:
    """422 unless the read-only gate accepts ``sql`` on ``source`` (else the default source)."""
    from .queries import data_source_check

    source = source or selectors.data_source_default()
    if source is None:
        raise ValidationFailedError(details={"data_source": ["A question→SQL memory needs a data source to check on."]})
    try:
        async_to_sync(data_source_check)(source=source, sql=sql, principal=principal)
    except SqlRefused as refused:
        raise ValidationFailedError(
            "The SQL was refused by the read-only gate",
            details={"sql": [f"{refused.message} (rule: {refused.rule})"], "rule": refused.rule},
        ) from None


def _clean(values: dict) -> dict:
    """Kind-specific rules on the merged field values (422 per field); returns them tidied."""
    values = dict(values)
    for name in ("question", "sql", "content"):
        values[name] = (values.get(name) or "").strip()
    values["tags"] = sorted({str(tag).strip() for tag in values.get("tags") or [] if str(tag).strip()})
    kind = values.get("kind")
    required = {MemoryKind.QUESTION_SQL: ("question", "sql"), MemoryKind.TEXT: ("content",)}.get(kind, ("content",))
    missing = {name: ["This field is required for a memory of this kind."] for name in required if not values[name]}
    if kind not in MemoryKind.values:
        missing["kind"] = [f"Allowed: {', '.join(MemoryKind.values)}."]
    if missing:
        raise ValidationFailedError(details=missing)
    if kind != MemoryKind.QUESTION_SQL:
        values["question"], values["sql"] = "", ""
    return values


def _twin(values: dict, principal, exclude=None) -> Memory | None:
    """The question→SQL memory of the same visibility, data source and normalised question, if any."""
    if values["kind"] != MemoryKind.QUESTION_SQL:
        return None
    candidates = Memory.objects.filter(kind=MemoryKind.QUESTION_SQL, data_source=values.get("data_source"))
    if values["scope"] == MemoryScope.PRIVATE:
        candidates = candidates.filter(scope=MemoryScope.PRIVATE, **_owner_fields(principal))
    else:
        candidates = candidates.filter(scope=MemoryScope.GLOBAL)
    if exclude is not None:
        candidates = candidates.exclude(pk=exclude.pk)
    wanted = normalised_question(values["question"])
    for memory in candidates.exclude(status=MemoryStatus.RETIRED).order_by("created_at", "id"):
        if normalised_question(memory.question) == wanted:
            return memory
    return None


def _apply(memory: Memory, values: dict, principal) -> None:
    for name in FIELDS:
        setattr(memory, name, values[name])
    if values["scope"] == MemoryScope.PRIVATE:
        if memory.scope != MemoryScope.PRIVATE or not (memory.owner_id or memory.owner_client_id):
            for name, value in _owner_fields(principal).items():
                setattr(memory, name, value)
    else:
        memory.owner, memory.owner_client_id = None, ""


def _audit(action: str, actor, memory: Memory, **details) -> None:
    audit_record(
        action=f"memory.{action}",
        actor=actor,
        resource=RESOURCE,
        resource_id=memory.pk,
        details={"kind": memory.kind, "scope": memory.scope, "status": memory.status, **details},
    )


def _written() -> None:
    transaction.on_commit(memory_index_invalidate)


def _prepared(*, actor, data: dict, current: Memory | None = None) -> dict:
    """The field values to store (current ones where ``data`` is silent), checked, the SQL gate-checked when it
    (or its source) changed or a drift flag is pending."""
    base = {name: getattr(current, name) for name in FIELDS} if current else {"scope": "global", "status": "draft"}
    values = _clean({**base, **data})
    values.setdefault("data_source", None)
    changed = current is None or any(values[n] != getattr(current, n) for n in ("sql", "data_source", "kind"))
    if values["kind"] == MemoryKind.QUESTION_SQL and (changed or (current and current.flagged)):
        _gate(source=values["data_source"], sql=values["sql"], principal=actor)
    return values


def memory_create(*, actor, data: dict) -> tuple[Memory, bool]:
    """A new memory, or (a duplicate question→SQL) the existing one updated; returns it and whether it is new."""
    values = _prepared(actor=actor, data=data)
    with transaction.atomic():
        twin = _twin(values, actor)
        memory = twin or Memory(created_by=principal_identity(actor)[1][:254])
        _apply(memory, values, actor)
        memory.flagged = ""
        memory.save()
        _audit("update" if twin else "create", actor, memory, merged=twin is not None)
        _written()
    return memory, twin is None


def memory_update(*, actor, memory: Memory, data: dict) -> Memory:
    """Change some fields (``data``: only those given); the SQL is gate-checked again when it changed."""
    values = _prepared(actor=actor, data=data, current=memory)
    with transaction.atomic():
        if _twin(values, actor, exclude=memory) is not None:
            raise ConflictError("Another memory already holds this question on this data source.")
        if values["kind"] == MemoryKind.QUESTION_SQL:
            memory.flagged = ""  # checked just now
        _apply(memory, values, actor)
        memory.save()
        _audit("update", actor, memory, fields=sorted(data))
        _written()
    return memory


def memory_delete(*, actor, memory: Memory) -> None:
    with transaction.atomic():
        _audit("delete", actor, memory)
        memory.delete()
        _written()


def memory_approve(*, actor, memory: Memory) -> Memory:
    """``draft`` (or ``retired``) → ``approved``; a question→SQL memory is gate-checked again (a drift flag is
    cleared when it passes). 409 when already approved."""
    if memory.status == MemoryStatus.APPROVED and not memory.flagged:
        raise ConflictError("This memory is already approved.")
    if memory.kind == MemoryKind.QUESTION_SQL:
        _gate(source=memory.data_source, sql=memory.sql, principal=actor)
    with transaction.atomic():
        previous = memory.status
        memory.status, memory.flagged = MemoryStatus.APPROVED, ""
        memory.save(update_fields=["status", "flagged", "updated_at"])
        _audit("approve", actor, memory, previous=previous)
        _written()
    return memory


def memory_retire(*, actor, memory: Memory) -> Memory:
    """→ ``retired``: kept for the record, used by nobody. 409 when already retired."""
    if memory.status == MemoryStatus.RETIRED:
        raise ConflictError("This memory is already retired.")
    with transaction.atomic():
        previous = memory.status
        memory.status = MemoryStatus.RETIRED
        memory.save(update_fields=["status", "updated_at"])
        _audit("retire", actor, memory, previous=previous)
        _written()
    return memory


def export_item(memory: Memory) -> dict:
    """One memory in the export (and import) format."""
    source = memory.data_source
    return {
        "kind": memory.kind,
        "question": memory.question,
        "sql": memory.sql,
        "content": memory.content,
        "tags": list(memory.tags or []),
        "data_source": source.name if source else None,
        "scope": memory.scope,
        "status": memory.status,
    }


def source_named(principal, ref) -> DataSource | None:
    """The data source ``ref`` (id or name) among those ``principal`` may see; ``None`` for none; ``LookupError``
    when nothing matches."""
    if ref in (None, ""):
        return None
    visible = selectors.data_sources_visible(principal)
    try:
        source = visible.filter(pk=uuid.UUID(str(ref))).first()
    except ValueError:
        source = next((s for s in visible if s.name.lower() == str(ref).lower()), None)
    if source is None:
        raise LookupError(ref)
    return source


def memory_import(*, actor, items: list[dict], progress=None) -> dict:
    """Store ``items`` (validated dicts with ``data_source`` resolved) all or nothing; every question→SQL is
    gate-checked first. Returns ``{"created", "merged"}``. 422 names the item and field at fault."""
    prepared = []
    for i, data in enumerate(items):
        try:
            prepared.append(_prepared(actor=actor, data=data))
        except ValidationFailedError as failed:
            details = {f"items[{i}].{name}": value for name, value in (failed.details or {}).items()}
            raise ValidationFailedError(f"Item {i} was refused; nothing was imported", details=details) from None
        if progress:
            progress(i + 1, len(items))
    created = merged = 0
    with transaction.atomic():
        for values in prepared:
            twin = _twin(values, actor)
            memory = twin or Memory(created_by=principal_identity(actor)[1][:254])
            _apply(memory, values, actor)
            memory.flagged = ""
            memory.save()
            created, merged = created + (twin is None), merged + (twin is not None)
        audit_record(
            action="memory.import",
            actor=actor,
            resource=RESOURCE,
            details={"items": len(prepared), "created": created, "merged": merged},
        )
        _written()
    return {"created": created, "merged": merged}
