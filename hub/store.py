"""Compatibility: the store moved to hub/persistence/. Removed when #12 merges."""

from hub.persistence.migrations import SchemaTooNew
from hub.persistence.protocol import Snapshot, Store
from hub.persistence.sqlite import SCHEMA_VERSION, SqliteStore

__all__ = ["SCHEMA_VERSION", "SchemaTooNew", "Snapshot", "SqliteStore", "Store"]
