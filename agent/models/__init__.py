"""The agent's models, one module per sub-domain, re-exported here."""

from .conversations import Conversation, Message
from .evals import EvalCase, EvalResult, EvalRun, EvalRunStatus, EvalSet
from .knowledge import Memory, MemoryKind, MemoryScope, MemoryStatus
from .sources import DataSource, Engine

__all__ = [
    "Conversation",
    "DataSource",
    "Engine",
    "EvalCase",
    "EvalResult",
    "EvalRun",
    "EvalRunStatus",
    "EvalSet",
    "Memory",
    "MemoryKind",
    "MemoryScope",
    "MemoryStatus",
    "Message",
]
