"""The agent's models, one module per sub-domain, re-exported here."""

from .conversations import Conversation, Message
from .feedback import Feedback, FeedbackStatus, Rating
from .knowledge import Memory, MemoryKind, MemoryScope, MemoryStatus
from .sources import DataSource, Engine
from .tools import ToolCall, ToolSetting

__all__ = [
    "Conversation",
    "DataSource",
    "Engine",
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
