"""The agent's models, one module per sub-domain, re-exported here."""

from .conversations import Conversation, Message
from .evals import EvalCase, EvalResult, EvalRun, EvalRunStatus, EvalSet
from .feedback import Feedback, FeedbackStatus, Rating
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
from .tools import ToolCall, ToolSetting

__all__ = [
    "Conversation",
    "DataSource",
    "DescribedBy",
    "DriftState",
    "Engine",
    "EvalCase",
    "EvalResult",
    "EvalRun",
    "EvalRunStatus",
    "EvalSet",
    "Feedback",
    "FeedbackStatus",
    "Memory",
    "MemoryKind",
    "MemoryScope",
    "MemoryStatus",
    "Message",
    "Origin",
    "Rating",
    "SemanticColumn",
    "SemanticMetric",
    "SemanticRelationship",
    "SemanticTable",
    "SemanticTerm",
    "ToolCall",
    "ToolSetting",
]
