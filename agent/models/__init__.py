"""The agent's models, one module per sub-domain, re-exported here."""

from .conversations import Conversation, Message
from .sources import DataSource, Engine

__all__ = ["Conversation", "DataSource", "Engine", "Message"]
