"""The agent's models, one module per sub-domain, re-exported here."""

from .sources import DataSource, Engine

__all__ = ["DataSource", "Engine"]
