"""The PostgreSQL store: the same `Store` Protocol as SQLite, for hubs that outgrow one machine.

Selected by `argosy hub --store postgresql://...`. It behaves exactly like `SqliteStore` (the
shared contract suite in tests/hub/test_store_contract.py holds both to that): upserts, every
multi-row change in one transaction, content-addressed resource sets, and token use counted
atomically in one UPDATE, so two replicas can never both spend the last use of a token.

The schema is versioned: `MIGRATIONS` (hub/persistence/migrations.py) are applied in order at
`open()`, in one transaction under a transaction-scoped advisory lock, and recorded in
`schema_migrations`. Replicas starting together migrate once; a hub older than its database
refuses to start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any, TypeAlias
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from asyncpg.pool import Pool, PoolConnectionProxy

from hub.models import (
    AdminTokenRecord,
    BundleControl,
    BundleRecord,
    ClusterRecord,
    DeploymentRecord,
    EventRecord,
    GroupRecord,
    HistoryEntry,
    RepoRecord,
    RevokedName,
    SourceSecret,
    TokenRecord,
)
from hub.persistence.codec import (
    CONTROL_COLUMNS,
    HISTORY_COLUMNS,
    REPO_COLUMNS,
    SOURCE_SECRET_COLUMNS,
    admin_token_from_row,
    bundle_from_row,
    cluster_from_row,
    control_from_row,
    deployment_from_row,
    files_to_json,
    group_from_row,
    history_from_row,
    labels_to_json,
    overrides_to_json,
    pg_text,
    repo_from_row,
    repo_to_row,
    resources_to_json,
    selector_to_json,
    source_secret_from_row,
    source_secret_to_row,
    token_from_row,
)
from hub.persistence.migrations import POSTGRES_MIGRATIONS, Migration, SchemaTooNew, due
from hub.persistence.protocol import STATE_CHANGES, Snapshot

__all__ = ["LATEST", "MIGRATIONS", "Migration", "PostgresStore", "SchemaTooNew", "redact"]

log = logging.getLogger(__name__)

# The stubs make these generic; at run time they are not, hence the string.
Connection: TypeAlias = "PoolConnectionProxy[asyncpg.Record]"

# Any fixed 64-bit key: only Argosy's migrations take this advisory lock.
MIGRATION_LOCK = 0x4152474F53590001  # "ARGOSY" + 1

MIGRATIONS = POSTGRES_MIGRATIONS
LATEST = MIGRATIONS[-1].version

# Column orders as hub/persistence/codec.py's decoders read them; JSON comes back as text.
_BUNDLE_COLUMNS = "name, labels::text, revision, resource_count, created, updated"
_CLUSTER_COLUMNS = (
    "id, name, labels::text, credential_hash, created, last_seen, revoked, label_overrides::text"
)
_DEPLOYMENT_COLUMNS = (
    "bundle, cluster_id, desired, acked, error, status_revision, ready, resources::text, released"
)
_TOKEN_COLUMNS = "id, secret_hash, created, expires, revoked, uses, max_uses"
_ADMIN_TOKEN_COLUMNS = "id, secret_hash, role, created, revoked"
_EVENT_COLUMNS = "seq, time, kind, bundle, cluster, revision, actor, message"


def redact(dsn: str) -> str:
    """The DSN without its password, for logs and messages."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    netloc = parts.netloc.rpartition("@")
    user = (parts.username or "") + ":***"
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc[2]}"))


async def migrate(conn: Connection | asyncpg.Connection[asyncpg.Record]) -> list[int]:
    """Apply the migrations this database lacks, in order, once; returns the versions applied."""
    async with conn.transaction():
        # Held to the end of this transaction: a second replica waits here, then finds the
        # schema current. CREATE TABLE IF NOT EXISTS alone races on the catalog.
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            "version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
            "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        applied = []
        for m in due(MIGRATIONS, done):
            await conn.execute(m.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, description) VALUES ($1, $2)",
                m.version,
                m.description,
            )
            applied.append(m.version)
        return applied


async def _keep_session(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """What a pooled connection needs on its way back to the pool: nothing.

    asyncpg's default sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`
    on every release: one more round trip per store call, 4 per registration, all on the event
    loop. This store's pooled connections take no session advisory locks, open no cursors,
    LISTEN to nothing (the change feed has its own connection) and SET nothing; asyncpg still
    rolls back a transaction left open before calling this.
    """
    del conn


class PostgresStore:
    """A pool of connections to one PostgreSQL database; safe to share with other replicas."""

    def __init__(
        self,
        dsn: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 30.0,
    ) -> None:
        self._dsn = dsn
        self._min_size = min_size
        self._max_size = max_size
        # The deadline for connecting, for taking a pooled connection, and for each statement.
        self._timeout = timeout
        self._pool: Pool[asyncpg.Record] | None = None

    async def open(self) -> None:
        pool = await asyncpg.create_pool(
            self._dsn,
            min_size=self._min_size,
            max_size=self._max_size,
            timeout=self._timeout,
            command_timeout=self._timeout,
            reset=_keep_session,
        )
        try:
            async with pool.acquire(timeout=self._timeout) as conn:
                applied = await migrate(conn)
        except BaseException:
            await pool.close()
            raise
        if applied:
            log.info("migrated %s to schema version %d", redact(self._dsn), LATEST)
        self._pool = pool

    async def close(self) -> None:
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        try:
            await asyncio.wait_for(pool.close(), self._timeout)
        except TimeoutError:
            pool.terminate()

    def _acquire(self) -> Any:
        assert self._pool is not None, "store is not open"
        return self._pool.acquire(timeout=self._timeout)

    @asynccontextmanager
    async def _transaction(self, **options: Any) -> AsyncIterator[Connection]:
        """A pooled connection inside one transaction: committed on success, else rolled back."""
        async with self._acquire() as conn, conn.transaction(**options):
            yield conn

    async def load(self) -> Snapshot:
        # One snapshot: what another replica commits meanwhile is wholly in or wholly out.
        async with self._transaction(isolation="repeatable_read", readonly=True) as conn:
            files: dict[str, dict[str, bytes]] = {}
            for r in await conn.fetch("SELECT bundle, path, content FROM bundle_files"):
                files.setdefault(r["bundle"], {})[r["path"]] = bytes(r["content"])
            bundles = [
                bundle_from_row(r, files.get(r["name"], {}))
                for r in await conn.fetch(f"SELECT {_BUNDLE_COLUMNS} FROM bundles ORDER BY name")
            ]
            clusters = [
                cluster_from_row(r)
                for r in await conn.fetch(f"SELECT {_CLUSTER_COLUMNS} FROM clusters ORDER BY name")
            ]
            groups = [
                group_from_row(r)
                for r in await conn.fetch(
                    "SELECT name, selector::text FROM cluster_groups ORDER BY name"
                )
            ]
            deployments = [
                deployment_from_row(r)
                for r in await conn.fetch(f"SELECT {_DEPLOYMENT_COLUMNS} FROM deployments")
            ]
            controls = [
                control_from_row(r)
                for r in await conn.fetch(f"SELECT {CONTROL_COLUMNS} FROM bundle_control")
            ]
        return Snapshot(bundles, clusters, groups, deployments, controls)

    # Single-record re-reads for replicas (hub/replication/): another replica changed this.

    async def load_bundle(self, name: str) -> BundleRecord | None:
        async with self._transaction(isolation="repeatable_read", readonly=True) as conn:
            r = await conn.fetchrow(f"SELECT {_BUNDLE_COLUMNS} FROM bundles WHERE name = $1", name)
            if r is None:
                return None
            files = {
                f["path"]: bytes(f["content"])
                for f in await conn.fetch(
                    "SELECT path, content FROM bundle_files WHERE bundle = $1 ORDER BY path", name
                )
            }
        return bundle_from_row(r, files)

    async def load_cluster(self, cluster_id: str) -> ClusterRecord | None:
        async with self._acquire() as conn:
            r = await conn.fetchrow(
                f"SELECT {_CLUSTER_COLUMNS} FROM clusters WHERE id = $1", cluster_id
            )
        return None if r is None else cluster_from_row(r)

    async def load_group(self, name: str) -> GroupRecord | None:
        async with self._acquire() as conn:
            r = await conn.fetchrow(
                "SELECT name, selector::text FROM cluster_groups WHERE name = $1", name
            )
        return None if r is None else group_from_row(r)

    async def load_control(self, name: str) -> BundleControl | None:
        async with self._acquire() as conn:
            r = await conn.fetchrow(
                f"SELECT {CONTROL_COLUMNS} FROM bundle_control WHERE name = $1", name
            )
        return None if r is None else control_from_row(r)

    async def load_deployments(self, keys: Sequence[tuple[str, str]]) -> list[DeploymentRecord]:
        if not keys:
            return []
        async with self._acquire() as conn:
            rows = await conn.fetch(
                "SELECT d.bundle, d.cluster_id, d.desired, d.acked, d.error, d.status_revision, "
                "d.ready, d.resources::text, d.released FROM deployments AS d "
                "JOIN unnest($1::text[], $2::text[]) AS x (bundle, cluster_id) "
                "ON d.bundle = x.bundle AND d.cluster_id = x.cluster_id",
                [b for b, _ in keys],
                [c for _, c in keys],
            )
        return [deployment_from_row(r) for r in rows]

    async def put_bundles(
        self,
        bundles: Sequence[BundleRecord],
        resource_sets: Mapping[str, bytes],
        *,
        history: Sequence[HistoryEntry] = (),
        history_limit: int = 0,
    ) -> dict[str, int]:
        latest = {b.name: b for b in bundles}  # a name given twice: the last one wins
        async with self._transaction() as conn:
            await _insert_resource_sets(conn, resource_sets)
            revs = await _insert_history(conn, history, history_limit)
            await conn.executemany(
                "INSERT INTO bundles (name, labels, revision, resource_count, created, updated) "
                "VALUES ($1, $2::jsonb, $3, $4, $5, $6) ON CONFLICT (name) DO UPDATE SET "
                "labels = excluded.labels, revision = excluded.revision, "
                "resource_count = excluded.resource_count, updated = excluded.updated",
                [
                    (
                        b.name,
                        labels_to_json(b.labels),
                        b.revision,
                        b.resource_count,
                        b.created,
                        b.updated,
                    )
                    for b in latest.values()
                ],
            )
            await conn.execute("DELETE FROM bundle_files WHERE bundle = ANY($1::text[])", [*latest])
            await conn.executemany(
                "INSERT INTO bundle_files (bundle, path, content) VALUES ($1, $2, $3)",
                [(b.name, p, bytes(c)) for b in latest.values() for p, c in b.files.items()],
            )
        return revs

    async def list_history(self, bundle: str) -> list[HistoryEntry]:
        async with self._acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {HISTORY_COLUMNS} FROM bundle_history WHERE bundle = $1 ORDER BY rev",
                bundle,
            )
        return [history_from_row(r) for r in rows]

    async def delete_bundle(self, name: str) -> None:
        async with self._transaction() as conn:
            await conn.execute("DELETE FROM bundles WHERE name = $1", name)
            await conn.execute("DELETE FROM bundle_control WHERE name = $1", name)
            await conn.execute("DELETE FROM bundle_history WHERE bundle = $1", name)

    async def put_resource_sets(self, resource_sets: Mapping[str, bytes]) -> None:
        async with self._transaction() as conn:
            await _insert_resource_sets(conn, resource_sets)

    async def get_resource_set(self, revision: str) -> bytes | None:
        async with self._acquire() as conn:
            data = await conn.fetchval(
                "SELECT data FROM resource_sets WHERE revision = $1", revision
            )
        return None if data is None else bytes(data)

    async def put_cluster(self, cluster: ClusterRecord) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO clusters (id, name, labels, credential_hash, created, last_seen, "
                "revoked, label_overrides) VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8::jsonb) "
                "ON CONFLICT (id) DO UPDATE "
                "SET name = excluded.name, labels = excluded.labels, "
                "credential_hash = excluded.credential_hash, last_seen = excluded.last_seen, "
                "revoked = excluded.revoked, label_overrides = excluded.label_overrides",
                cluster.id,
                cluster.name,
                labels_to_json(cluster.labels),
                cluster.credential_hash,
                cluster.created,
                cluster.last_seen,
                cluster.revoked,
                overrides_to_json(cluster.label_overrides),
            )

    async def delete_cluster(self, cluster_id: str) -> None:
        async with self._transaction() as conn:
            await conn.execute("DELETE FROM deployments WHERE cluster_id = $1", cluster_id)
            await conn.execute("DELETE FROM clusters WHERE id = $1", cluster_id)

    async def put_revoked_name(self, revoked: RevokedName) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO revoked_names (name, revoked, token_ids) VALUES ($1, $2, $3) "
                "ON CONFLICT (name) DO UPDATE SET revoked = excluded.revoked, "
                "token_ids = excluded.token_ids",
                revoked.name,
                revoked.revoked,
                list(revoked.token_ids),
            )

    async def get_revoked_name(self, name: str) -> RevokedName | None:
        async with self._acquire() as conn:
            row = await conn.fetchrow(
                "SELECT name, revoked, token_ids FROM revoked_names WHERE name = $1", name
            )
        if row is None:
            return None
        return RevokedName(row["name"], row["revoked"], tuple(row["token_ids"]))

    async def forget_revoked_name(self, name: str) -> None:
        async with self._transaction() as conn:
            await conn.execute("DELETE FROM revoked_names WHERE name = $1", name)

    async def touch_clusters(self, last_seen: Mapping[str, int]) -> None:
        if not last_seen:
            return
        ids = sorted(last_seen)
        async with self._transaction() as conn:
            await conn.execute(
                "UPDATE clusters AS c SET last_seen = v.t "
                "FROM unnest($1::text[], $2::bigint[]) AS v (id, t) WHERE c.id = v.id",
                ids,
                [last_seen[i] for i in ids],
            )

    async def put_group(self, group: GroupRecord) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO cluster_groups (name, selector) VALUES ($1, $2::jsonb) "
                "ON CONFLICT (name) DO UPDATE SET selector = excluded.selector",
                group.name,
                selector_to_json(group.selector),
            )

    async def delete_group(self, name: str) -> None:
        async with self._transaction() as conn:
            await conn.execute("DELETE FROM cluster_groups WHERE name = $1", name)

    async def put_token(self, token: TokenRecord) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO tokens (id, secret_hash, created, expires, revoked, uses, max_uses) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET "
                "revoked = excluded.revoked, uses = excluded.uses, expires = excluded.expires, "
                "max_uses = excluded.max_uses",
                token.id,
                token.secret_hash,
                token.created,
                token.expires,
                token.revoked,
                token.uses,
                token.max_uses,
            )

    async def list_tokens(self) -> list[TokenRecord]:
        async with self._acquire() as conn:
            rows = await conn.fetch(f"SELECT {_TOKEN_COLUMNS} FROM tokens ORDER BY created, id")
        return [token_from_row(r) for r in rows]

    async def use_token(self, secret_hash: str, *, now: int) -> TokenRecord | None:
        """Count one use of a usable token (codec.token_usable), atomically; None when not.

        One UPDATE both checks and counts, so it takes the row lock before deciding: two
        replicas using the same token at once are serialised by PostgreSQL itself.
        """
        async with self._transaction() as conn:
            row = await conn.fetchrow(
                "UPDATE tokens SET uses = uses + 1 "
                "WHERE secret_hash = $1 AND NOT revoked AND (expires = 0 OR expires > $2) "
                "AND (max_uses = 0 OR uses < max_uses) "
                # The record as it was before this use, as SqliteStore returns it.
                "RETURNING id, secret_hash, created, expires, revoked, uses - 1 AS uses, max_uses",
                secret_hash,
                now,
            )
        return None if row is None else token_from_row(row)

    async def put_repo(self, repo: RepoRecord) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                f"INSERT INTO repos ({REPO_COLUMNS}) "
                "VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8::jsonb, $9) "
                "ON CONFLICT (name) DO UPDATE SET url = excluded.url, "
                "ref_kind = excluded.ref_kind, ref = excluded.ref, paths = excluded.paths, "
                "interval_ms = excluded.interval_ms, secret = excluded.secret, "
                "labels = excluded.labels, created = excluded.created",
                *repo_to_row(repo),
            )

    async def list_repos(self) -> list[RepoRecord]:
        async with self._acquire() as conn:
            rows = await conn.fetch(
                "SELECT name, url, ref_kind, ref, paths::text, interval_ms, secret, "
                "labels::text, created FROM repos ORDER BY name"
            )
        return [repo_from_row(r) for r in rows]

    async def delete_repo(self, name: str) -> None:
        async with self._transaction() as conn:
            await conn.execute("DELETE FROM repos WHERE name = $1", name)

    async def put_source_secret(self, secret: SourceSecret) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                f"INSERT INTO source_secrets ({SOURCE_SECRET_COLUMNS}) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7) "
                "ON CONFLICT (name) DO UPDATE SET username = excluded.username, "
                "password = excluded.password, ssh_key = excluded.ssh_key, "
                "known_hosts = excluded.known_hosts, created = excluded.created, "
                "helm_repo_hosts = excluded.helm_repo_hosts",
                *source_secret_to_row(secret),
            )

    async def get_source_secret(self, name: str) -> SourceSecret | None:
        async with self._acquire() as conn:
            row = await conn.fetchrow(
                f"SELECT {SOURCE_SECRET_COLUMNS} FROM source_secrets WHERE name = $1", name
            )
        return None if row is None else source_secret_from_row(row)

    async def list_source_secrets(self) -> list[str]:
        async with self._acquire() as conn:
            rows = await conn.fetch("SELECT name FROM source_secrets ORDER BY name")
        return [r[0] for r in rows]

    async def delete_source_secret(self, name: str) -> None:
        async with self._transaction() as conn:
            await conn.execute("DELETE FROM source_secrets WHERE name = $1", name)

    async def save_deployments(
        self, upserts: Sequence[DeploymentRecord], deletes: Sequence[tuple[str, str]]
    ) -> None:
        # One row per key (the last wins, as with one upsert after another), in key order, so
        # two replicas writing overlapping batches take row locks in the same order.
        rows = sorted({(d.bundle, d.cluster_id): d for d in upserts}.items())
        async with self._transaction() as conn:
            if deletes:
                await conn.execute(
                    "DELETE FROM deployments AS d USING unnest($1::text[], $2::text[]) "
                    "AS x (bundle, cluster_id) "
                    "WHERE d.bundle = x.bundle AND d.cluster_id = x.cluster_id",
                    [b for b, _ in deletes],
                    [c for _, c in deletes],
                )
            if rows:
                ds = [d for _, d in rows]
                await conn.execute(
                    "INSERT INTO deployments (bundle, cluster_id, desired, acked, error, "
                    "status_revision, ready, resources, released) "
                    "SELECT b, c, d, a, e, s, r, rs::json, rl FROM unnest($1::text[], "
                    "$2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bool[], "
                    "$8::text[], $9::text[]) AS x (b, c, d, a, e, s, r, rs, rl) "
                    "ON CONFLICT (bundle, cluster_id) DO UPDATE SET desired = excluded.desired, "
                    "acked = excluded.acked, error = excluded.error, "
                    "status_revision = excluded.status_revision, ready = excluded.ready, "
                    "resources = excluded.resources, released = excluded.released",
                    [d.bundle for d in ds],
                    [d.cluster_id for d in ds],
                    [d.desired for d in ds],
                    [d.acked for d in ds],
                    [pg_text(d.error) for d in ds],
                    [d.status_revision for d in ds],
                    [d.ready for d in ds],
                    [resources_to_json(d.resources) for d in ds],
                    [d.released for d in ds],
                )

    async def append_events(self, events: Sequence[EventRecord], *, keep: int) -> list[EventRecord]:
        if not events:
            return []
        async with self._transaction() as conn:
            # Rows are inserted in `ord` order, and the identity numbers them in that order;
            # another replica's concurrent batch takes numbers before or after, never between
            # ours in a way that reorders them.
            rows = await conn.fetch(
                "INSERT INTO events (time, kind, bundle, cluster, revision, actor, message) "
                "SELECT t, k, b, c, r, a, m FROM unnest($1::float8[], $2::text[], $3::text[], "
                "$4::text[], $5::text[], $6::text[], $7::text[]) WITH ORDINALITY "
                "AS x (t, k, b, c, r, a, m, ord) ORDER BY ord RETURNING seq",
                [e.time for e in events],
                [e.kind for e in events],
                [pg_text(e.bundle) for e in events],
                [pg_text(e.cluster) for e in events],
                [e.revision for e in events],
                [pg_text(e.actor) for e in events],
                [pg_text(e.message) for e in events],
            )
            # The state changes and the other kinds are trimmed apart (STATE_CHANGES).
            for same in ("=", "<>"):
                await conn.execute(
                    f"DELETE FROM events WHERE kind {same} $2 AND seq <= "
                    f"(SELECT seq FROM events WHERE kind {same} $2 "
                    "ORDER BY seq DESC LIMIT 1 OFFSET $1)",
                    keep,
                    STATE_CHANGES,
                )
        seqs = sorted(r["seq"] for r in rows)
        return [replace(e, seq=seq) for e, seq in zip(events, seqs, strict=True)]

    async def list_events(
        self,
        *,
        bundle: str = "",
        cluster: str = "",
        kind: str = "",
        since_seq: int = 0,
        limit: int = 100,
    ) -> list[EventRecord]:
        # After a given event: the oldest `limit` after it (a resume pages forward from there);
        # from the start: the newest `limit`.
        order = "ASC" if since_seq > 0 else "DESC"
        async with self._acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {_EVENT_COLUMNS} FROM events WHERE seq > $1 "
                "AND ($2 = '' OR bundle = $2) AND ($3 = '' OR cluster = $3) "
                f"AND ($4 = '' OR kind = $4) ORDER BY seq {order} LIMIT $5",
                since_seq,
                bundle,
                cluster,
                kind,
                limit,
            )
        return [
            EventRecord(
                seq=r["seq"],
                time=r["time"],
                kind=r["kind"],
                bundle=r["bundle"],
                cluster=r["cluster"],
                revision=r["revision"],
                actor=r["actor"],
                message=r["message"],
            )
            for r in (rows if since_seq > 0 else reversed(rows))
        ]

    async def put_bundle_control(self, control: BundleControl) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO bundle_control (name, paused, halted, pinned) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (name) DO UPDATE SET paused = excluded.paused, "
                "halted = excluded.halted, pinned = excluded.pinned",
                control.name,
                control.paused,
                pg_text(control.halted),
                control.pinned,
            )

    async def put_admin_token(self, token: AdminTokenRecord) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO admin_tokens (id, secret_hash, role, created, revoked) "
                "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET "
                "revoked = excluded.revoked",
                token.id,
                token.secret_hash,
                token.role,
                token.created,
                token.revoked,
            )

    async def get_admin_token(self, secret_hash: str) -> AdminTokenRecord | None:
        async with self._acquire() as conn:
            r = await conn.fetchrow(
                f"SELECT {_ADMIN_TOKEN_COLUMNS} FROM admin_tokens WHERE secret_hash = $1",
                secret_hash,
            )
        return None if r is None else admin_token_from_row(r)

    async def list_admin_tokens(self) -> list[AdminTokenRecord]:
        async with self._acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {_ADMIN_TOKEN_COLUMNS} FROM admin_tokens ORDER BY created, id"
            )
        return [admin_token_from_row(r) for r in rows]

    async def shared_secret(self, name: str, value: bytes) -> bytes:
        # Insert-if-absent then read, in one transaction: replicas starting together agree.
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                name,
                value,
            )
            stored = await conn.fetchval("SELECT value FROM secrets WHERE name = $1", name)
        return bytes(stored)


async def _insert_resource_sets(conn: Connection, resource_sets: Mapping[str, bytes]) -> None:
    if not resource_sets:
        return
    # Content-addressed: a revision names its bytes, so a row that exists is already right.
    await conn.execute(
        "INSERT INTO resource_sets (revision, data) "
        "SELECT * FROM unnest($1::text[], $2::bytea[]) ON CONFLICT (revision) DO NOTHING",
        list(resource_sets),
        [bytes(v) for v in resource_sets.values()],
    )


async def _insert_history(
    conn: Connection, history: Sequence[HistoryEntry], limit: int
) -> dict[str, int]:
    """Add entries, each at its bundle's next rev, and trim each bundle to `limit` (0: all).

    Two statements whatever the number of bundles (an apply may hold thousands). The bundles
    of one apply are distinct, so each gets MAX(rev) + 1. Two replicas applying one bundle at
    once both read the same MAX(rev): the second insert fails on the primary key and its
    whole apply rolls back (the caller sees an error and can apply again) rather than two
    entries sharing a rev."""
    revs: dict[str, int] = {}
    rest = list(history)
    while rest:
        batch: dict[str, HistoryEntry] = {}
        for e in rest:
            batch.setdefault(e.bundle, e)
        taken = {id(e) for e in batch.values()}
        rest = [e for e in rest if id(e) not in taken]
        revs.update(await _insert_history_round(conn, list(batch.values()), limit))
    return revs


async def _insert_history_round(
    conn: Connection, history: Sequence[HistoryEntry], limit: int
) -> dict[str, int]:
    """_insert_history for entries of distinct bundles."""
    rows = await conn.fetch(
        f"INSERT INTO bundle_history ({HISTORY_COLUMNS}) "
        "SELECT x.bundle, COALESCE((SELECT MAX(h.rev) FROM bundle_history AS h "
        "WHERE h.bundle = x.bundle), 0) + 1, x.revision, x.created, x.actor, x.summary, "
        "x.labels, x.files, x.rollback_of FROM unnest($1::text[], $2::text[], $3::bigint[], "
        "$4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[]) "
        "AS x (bundle, revision, created, actor, summary, labels, files, rollback_of) "
        "RETURNING bundle, rev",
        [e.bundle for e in history],
        [e.revision for e in history],
        [e.created for e in history],
        [pg_text(e.actor) for e in history],
        [pg_text(e.summary) for e in history],
        [labels_to_json(e.labels) for e in history],
        [files_to_json(e.files) for e in history],
        [e.rollback_of for e in history],
    )
    revs = {r["bundle"]: int(r["rev"]) for r in rows}
    if limit:
        await conn.execute(
            "DELETE FROM bundle_history AS h USING unnest($1::text[], $2::bigint[]) "
            "AS x (bundle, rev) WHERE h.bundle = x.bundle AND h.rev <= x.rev - $3",
            list(revs),
            list(revs.values()),
            limit,
        )
    return revs
