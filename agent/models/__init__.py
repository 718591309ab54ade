"""The agent's models, one module per sub-domain, re-exported here."""

from .conversations import Conversation, Message
from .evals import EvalCase, EvalResult, EvalRun, EvalRunStatus, EvalSet
from .feedback import Feedback, FeedbackStatus, Rating
from .knowledge import Memory, MemoryKind, MemoryScope, MemoryStatus
from .sources import DataSource, Engine
from .tools import ToolCall, ToolSetting

__all__ = [
    "Conversation",
    "DataSource",
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
    "Rating",
    "ToolCall",
    "ToolSetting",
]
