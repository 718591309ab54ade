"""The agent's models, one module per sub-domain, re-exported here."""

from .conversations import Conversation, Message
from .knowledge import Memory, MemoryKind, MemoryScope, MemoryStatus
from .sources import DataSource, Engine

__all__ = ["Conversation", "DataSource", "Engine", "Memory", "MemoryKind", "MemoryScope", "MemoryStatus", "Message"]
