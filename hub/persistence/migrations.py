"""Each store's schema as a numbered, append-only list of migrations, and which ones are due.

Both stores migrate alike: at `open()`, in one transaction, apply in order every migration
the database lacks and record the version reached; a database recorded at a version newer
than this hub knows is refused (`SchemaTooNew`) rather than written with an older schema.
The lists are separate because the SQL is not the same (types, and the historical table
layouts each store already has on disk; see hub/persistence/__init__.py).

Where each store records its version is unchanged from before the lists existed: SQLite in
`meta.schema_version`, PostgreSQL in `schema_migrations` (one row per version applied).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sql: str


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer hub than this one."""


def due(migrations: Sequence[Migration], applied: set[int]) -> list[Migration]:
    """The migrations a database with `applied` versions still needs, in order.

    Raises SchemaTooNew when the database has a version this hub does not know: a newer hub
    migrated it, and writing it with this one's older idea of the tables would lose data.
    """
    latest = migrations[-1].version
    if applied and max(applied) > latest:
        raise SchemaTooNew(
            f"the database schema is at version {max(applied)}, but this hub knows only up "
            f"to {latest}: run a newer hub"
        )
    return [m for m in migrations if m.version not in applied]


# Append only: a released migration is never edited, a change is a new version.

# SQLite version 1 was written, before this list, by hubs that grew it in place with CREATE
# TABLE IF NOT EXISTS (admin_tokens, secrets, bundle_control and revoked_names came later
# under the same number). Its SQL therefore stays idempotent, and a file recorded at version 1
# is treated as possibly short of a table: sqlite.py re-applies version 1 to it on open, as
# every hub before this list did. From version 2 on, each migration runs exactly once.
SQLITE_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "initial schema",
        """
        CREATE TABLE IF NOT EXISTS bundles (
            name TEXT PRIMARY KEY, labels TEXT NOT NULL, files TEXT NOT NULL,
            revision TEXT NOT NULL, resource_count INTEGER NOT NULL, created INTEGER NOT NULL,
            updated INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS resource_sets (revision TEXT PRIMARY KEY, data BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS clusters (
            id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, labels TEXT NOT NULL,
            credential_hash TEXT NOT NULL, created INTEGER NOT NULL, last_seen INTEGER NOT NULL,
            revoked INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS groups_ (name TEXT PRIMARY KEY, selector TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS tokens (
            id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL UNIQUE, created INTEGER NOT NULL,
            expires INTEGER NOT NULL, revoked INTEGER NOT NULL, uses INTEGER NOT NULL,
            max_uses INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS admin_tokens (
            id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
            created INTEGER NOT NULL, revoked INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS deployments (
            bundle TEXT NOT NULL, cluster_id TEXT NOT NULL, desired TEXT NOT NULL,
            acked TEXT NOT NULL, error TEXT NOT NULL, status_revision TEXT NOT NULL,
            ready INTEGER NOT NULL, resources TEXT NOT NULL, released TEXT NOT NULL,
            PRIMARY KEY (bundle, cluster_id));
        CREATE TABLE IF NOT EXISTS bundle_control (
            name TEXT PRIMARY KEY, paused INTEGER, halted TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS revoked_names (
            name TEXT PRIMARY KEY, revoked INTEGER NOT NULL, token_ids TEXT NOT NULL);
        """,
    ),
    Migration(
        2,
        "git repositories and their credentials",
        """
        CREATE TABLE repos (
            name TEXT PRIMARY KEY, url TEXT NOT NULL, ref_kind TEXT NOT NULL, ref TEXT NOT NULL,
            paths TEXT NOT NULL, interval_ms INTEGER NOT NULL, secret TEXT NOT NULL,
            labels TEXT NOT NULL, created INTEGER NOT NULL);
        CREATE TABLE source_secrets (
            name TEXT PRIMARY KEY, username TEXT NOT NULL, password BLOB NOT NULL,
            ssh_key BLOB NOT NULL, known_hosts TEXT NOT NULL, created INTEGER NOT NULL);
        """,
    ),
    Migration(
        3,
        "chart repository hosts of source secrets",
        """
        ALTER TABLE source_secrets ADD COLUMN helm_repo_hosts TEXT NOT NULL DEFAULT '[]';
        """,
    ),
    Migration(
        4,
        "the event log",
        """
        -- AUTOINCREMENT: a trimmed sequence number is never handed out again.
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, kind TEXT NOT NULL,
            bundle TEXT NOT NULL, cluster TEXT NOT NULL, revision TEXT NOT NULL,
            actor TEXT NOT NULL, message TEXT NOT NULL);
        """,
    ),
    Migration(
        5,
        "bundle history (the applied source of each revision) and rollback pins",
        """
        CREATE TABLE bundle_history (
            bundle TEXT NOT NULL, rev INTEGER NOT NULL, revision TEXT NOT NULL,
            created INTEGER NOT NULL, actor TEXT NOT NULL, summary TEXT NOT NULL,
            labels TEXT NOT NULL, files TEXT NOT NULL, rollback_of INTEGER NOT NULL,
            PRIMARY KEY (bundle, rev));
        ALTER TABLE bundle_control ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
        """,
    ),
    Migration(
        6,
        "cluster labels set on the hub",
        "ALTER TABLE clusters ADD COLUMN label_overrides TEXT NOT NULL DEFAULT '{}';",
    ),
)

POSTGRES_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "initial schema",
        """
        CREATE TABLE bundles (
            name TEXT PRIMARY KEY,
            labels JSONB NOT NULL,
            revision TEXT NOT NULL,
            resource_count BIGINT NOT NULL,
            created BIGINT NOT NULL,
            updated BIGINT NOT NULL
        );
        -- Files are bytes: BYTEA keeps any content, where TEXT and JSONB refuse a NUL.
        CREATE TABLE bundle_files (
            bundle TEXT NOT NULL REFERENCES bundles (name) ON DELETE CASCADE,
            path TEXT NOT NULL,
            content BYTEA NOT NULL,
            PRIMARY KEY (bundle, path)
        );
        CREATE TABLE resource_sets (revision TEXT PRIMARY KEY, data BYTEA NOT NULL);
        CREATE TABLE clusters (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            labels JSONB NOT NULL,
            credential_hash TEXT NOT NULL,
            created BIGINT NOT NULL,
            last_seen BIGINT NOT NULL
        );
        CREATE TABLE cluster_groups (name TEXT PRIMARY KEY, selector JSONB NOT NULL);
        CREATE TABLE tokens (
            id TEXT PRIMARY KEY,
            secret_hash TEXT NOT NULL UNIQUE,
            created BIGINT NOT NULL,
            expires BIGINT NOT NULL,
            revoked BOOLEAN NOT NULL,
            uses BIGINT NOT NULL
        );
        -- No foreign keys: like SQLite, the write-behind may outlive a cluster or bundle by a
        -- batch, and load() drops such rows rather than failing a whole batch.
        CREATE TABLE deployments (
            bundle TEXT NOT NULL,
            cluster_id TEXT NOT NULL,
            desired TEXT NOT NULL,
            acked TEXT NOT NULL,
            error TEXT NOT NULL,
            status_revision TEXT NOT NULL,
            ready BOOLEAN NOT NULL,
            resources JSON NOT NULL,
            released TEXT NOT NULL,
            PRIMARY KEY (bundle, cluster_id)
        );
        CREATE INDEX deployments_cluster_id ON deployments (cluster_id);
        CREATE TABLE bundle_control (name TEXT PRIMARY KEY, paused BOOLEAN, halted TEXT NOT NULL);
        """,
    ),
    Migration(
        2,
        "trust: cluster revocation, token use limits, admin tokens, the hub CA",
        """
        ALTER TABLE clusters ADD COLUMN revoked BOOLEAN NOT NULL DEFAULT FALSE;
        ALTER TABLE tokens ADD COLUMN max_uses BIGINT NOT NULL DEFAULT 0;
        CREATE TABLE admin_tokens (
            id TEXT PRIMARY KEY,
            secret_hash TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            created BIGINT NOT NULL,
            revoked BOOLEAN NOT NULL
        );
        CREATE TABLE secrets (name TEXT PRIMARY KEY, value BYTEA NOT NULL);
        """,
    ),
    Migration(
        3,
        "revoked cluster names outlive the cluster",
        """
        CREATE TABLE revoked_names (
            name TEXT PRIMARY KEY,
            revoked BIGINT NOT NULL,
            token_ids TEXT[] NOT NULL
        );
        """,
    ),
    Migration(
        4,
        "git repositories and their credentials",
        """
        CREATE TABLE repos (
            name TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            ref_kind TEXT NOT NULL,
            ref TEXT NOT NULL,
            paths JSONB NOT NULL,
            interval_ms BIGINT NOT NULL,
            secret TEXT NOT NULL,
            labels JSONB NOT NULL,
            created BIGINT NOT NULL
        );
        -- Not the `secrets` table: that one holds the hub's own (the CA), and a user's secret
        -- named like one of them must not be able to replace it.
        CREATE TABLE source_secrets (
            name TEXT PRIMARY KEY,
            username TEXT NOT NULL,
            password BYTEA NOT NULL,
            ssh_key BYTEA NOT NULL,
            known_hosts TEXT NOT NULL,
            created BIGINT NOT NULL
        );
        """,
    ),
    Migration(
        5,
        "chart repository hosts of source secrets",
        """
        ALTER TABLE source_secrets ADD COLUMN helm_repo_hosts TEXT NOT NULL DEFAULT '[]';
        """,
    ),
    Migration(
        6,
        "the event log",
        """
        CREATE TABLE events (
            seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            time DOUBLE PRECISION NOT NULL,
            kind TEXT NOT NULL,
            bundle TEXT NOT NULL,
            cluster TEXT NOT NULL,
            revision TEXT NOT NULL,
            actor TEXT NOT NULL,
            message TEXT NOT NULL
        );
        """,
    ),
    Migration(
        7,
        "bundle history (the applied source of each revision) and rollback pins",
        """
        -- Labels and files as JSON text (files_to_json is ASCII), as SQLite keeps them:
        -- history is read one bundle at a time, never joined, so a table per file (as
        -- bundle_files) would buy nothing here.
        CREATE TABLE bundle_history (
            bundle TEXT NOT NULL,
            rev BIGINT NOT NULL,
            revision TEXT NOT NULL,
            created BIGINT NOT NULL,
            actor TEXT NOT NULL,
            summary TEXT NOT NULL,
            labels TEXT NOT NULL,
            files TEXT NOT NULL,
            rollback_of BIGINT NOT NULL,
            PRIMARY KEY (bundle, rev)
        );
        ALTER TABLE bundle_control ADD COLUMN pinned BIGINT NOT NULL DEFAULT 0;
        """,
    ),
    Migration(
        8,
        "cluster labels set on the hub",
        "ALTER TABLE clusters ADD COLUMN label_overrides JSONB NOT NULL DEFAULT '{}';",
    ),
)
