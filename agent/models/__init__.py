"""The agent's models, one module per sub-domain, re-exported here."""

from .conversations import Conversation, Message
from .knowledge import Memory, MemoryKind, MemoryScope, MemoryStatus
from .semantic import (
    DescribedBy,
    DriftState,
    Origin,
    SemanticColumn,
    SemanticMetric,
    SemanticRelationship,
    SemanticTable,
    SemanticTerm,
)
from .sources import DataSource, Engine

__all__ = [
    "Conversation",
    "DataSource",
    "DescribedBy",
    "DriftState",
    "Engine",
    "Memory",
    "MemoryKind",
    "MemoryScope",
    "MemoryStatus",
    "Message",
    "Origin",
    "SemanticColumn",
    "SemanticMetric",
    "SemanticRelationship",
    "SemanticTable",
    "SemanticTerm",
]
