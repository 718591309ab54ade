"""The saved questions a caller may use, searched with ``agent.knowledge.retrieval`` (the offline answerer and
the prompt's examples; issue 16's memory search builds on it).

A search does not reload every memory: the retrieval index of the caller's usable question→SQL memories
(``agent.selectors.memories_usable``) is kept per process, keyed by the data source, a stamp of those rows
(how many, the latest ``updated_at``) and the synonyms in force. Callers without private memories share the
index of the source's global ones. Any change made with ``save()`` (a new, edited, approved, retired or
deleted memory) changes the stamp, so the next search rebuilds the index; a bulk ``update()`` that changes
questions must call ``memory_index_invalidate()``. Only ids and questions are kept in the index; the SQL of
the few results is read afterwards. The index is BM25's or, with ``MV_RETRIEVAL_BACKEND=embeddings``, the
embedding backend's (``agent.knowledge.embeddings``: vectors stored by content hash, not re-embedded).
"""

import threading
import uuid
from collections import OrderedDict
from typing import Any

from django.db.models import Count, F, Max, Q
from django.utils import timezone

from agent import selectors
from agent.models import Memory, MemoryKind, MemoryScope

from .embeddings import backend, index_factory
from .retrieval import Index
from .synonyms import synonyms_for

CACHED_INDEXES = 16
_indexes: OrderedDict[tuple, Index] = OrderedDict()
_lock = threading.Lock()


def _owner_key(principal) -> str:
    client_id = getattr(principal, "integration_client_id", None)
    return f"client:{client_id}" if client_id else f"user:{getattr(principal, 'pk', None)}"


def _saved(principal, source):
    return selectors.memories_usable(principal, source).filter(kind=MemoryKind.QUESTION_SQL).exclude(sql="")


def saved_question_index(principal, source) -> Index:  # or an EmbeddingIndex: the same search()
    """The retrieval index of the question→SQL memories ``principal`` may use on ``source`` (cached)."""
    rows = _saved(principal, source)
    stamp = rows.aggregate(
        n=Count("id"), latest=Max("updated_at"), private=Count("id", filter=Q(scope=MemoryScope.PRIVATE))
    )
    synonyms = synonyms_for(source)
    owner = _owner_key(principal) if stamp["private"] else None
    key = (backend(), str(source.pk) if source else None, owner, stamp["n"], stamp["latest"], synonyms.fingerprint)
    with _lock:
        index = _indexes.get(key)
        if index is not None:
            _indexes.move_to_end(key)
            return index
    candidates = [{"id": str(pk), "question": question} for pk, question in rows.values_list("id", "question")]
    index = index_factory()(candidates, synonyms)  # BM25, or embeddings (MV_RETRIEVAL_BACKEND)
    with _lock:
        _indexes[key] = index
        while len(_indexes) > CACHED_INDEXES:
            _indexes.popitem(last=False)
    return index


def memory_index_invalidate() -> None:
    """Forget every cached index of this process (after bulk changes that ``save()`` did not make)."""
    with _lock:
        _indexes.clear()


def saved_questions_search(principal, source, question: str, *, limit: int = 5) -> list[dict[str, Any]]:
    """The saved questions closest to ``question``: ``{"id", "question", "sql", "score"}``, best first."""
    found = saved_question_index(principal, source).search(question, limit)
    if not found:
        return []
    # still usable now (the index may be a moment older than a retirement)
    sql_of = dict(_saved(principal, source).filter(pk__in=[c["id"] for c in found]).values_list("id", "sql"))
    return [{**c, "sql": sql_of[pk]} for c in found if (pk := uuid.UUID(c["id"])) in sql_of]


def memory_mark_used(memory_id: str) -> None:
    """Count one use of a memory that answered (``use_count``, ``last_used_at``; not ``updated_at``)."""
    Memory.objects.filter(pk=memory_id).update(use_count=F("use_count") + 1, last_used_at=timezone.now())
