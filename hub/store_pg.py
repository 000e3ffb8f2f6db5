"""Compatibility: the PostgreSQL store moved to hub/persistence/. Removed when #12 merges."""

from hub.persistence.migrations import Migration, SchemaTooNew
from hub.persistence.postgres import (
    LATEST,
    MIGRATION_LOCK,
    MIGRATIONS,
    PostgresStore,
    migrate,
    redact,
)

__all__ = [
    "LATEST",
    "MIGRATIONS",
    "MIGRATION_LOCK",
    "Migration",
    "PostgresStore",
    "SchemaTooNew",
    "migrate",
    "redact",
]
