"""The embedded store: one SQLite file in WAL mode, the default for a single hub.

SQLite runs on one dedicated thread: the event loop never waits on disk. Every multi-row
change is one transaction. Its migrations are SQLITE_MIGRATIONS (hub/persistence/migrations.py);
its encodings are shared with PostgreSQL (hub/persistence/codec.py).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

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
    files_from_json,
    files_to_json,
    group_from_row,
    history_from_row,
    labels_to_json,
    overrides_to_json,
    repo_from_row,
    repo_to_row,
    resources_to_json,
    selector_to_json,
    source_secret_from_row,
    source_secret_to_row,
    token_from_row,
    token_usable,
)
from hub.persistence.migrations import SQLITE_MIGRATIONS, due
from hub.persistence.protocol import STATE_CHANGES, Snapshot

T = TypeVar("T")

# The version this hub writes into `meta.schema_version`.
SCHEMA_VERSION = SQLITE_MIGRATIONS[-1].version

_BUNDLE_COLUMNS = "name, labels, revision, resource_count, created, updated, files"
_CLUSTER_COLUMNS = "id, name, labels, credential_hash, created, last_seen, revoked, label_overrides"
_DEPLOYMENT_COLUMNS = (
    "bundle, cluster_id, desired, acked, error, status_revision, ready, resources, released"
)
_TOKEN_COLUMNS = "id, secret_hash, created, expires, revoked, uses, max_uses"
_ADMIN_TOKEN_COLUMNS = "id, secret_hash, role, created, revoked"
_EVENT_COLUMNS = "time, kind, bundle, cluster, revision, actor, message"


class SqliteStore:
    """The embedded store: one SQLite file in WAL mode, every multi-row change in a transaction."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._conn: sqlite3.Connection | None = None

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def call() -> T:
            assert self._conn is not None, "store is not open"
            return fn(self._conn)

        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def open(self) -> None:
        def connect() -> sqlite3.Connection:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA foreign_keys=ON")
                _migrate(conn)
            except BaseException:
                conn.close()
                raise
            return conn

        self._conn = await asyncio.get_running_loop().run_in_executor(self._executor, connect)

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await asyncio.get_running_loop().run_in_executor(self._executor, conn.close)
        self._executor.shutdown(wait=True)

    async def load(self) -> Snapshot:
        def load(conn: sqlite3.Connection) -> Snapshot:
            bundles = [
                bundle_from_row(row, files_from_json(row[6]))
                for row in conn.execute(f"SELECT {_BUNDLE_COLUMNS} FROM bundles ORDER BY name")
            ]
            clusters = [
                cluster_from_row(row)
                for row in conn.execute(f"SELECT {_CLUSTER_COLUMNS} FROM clusters ORDER BY name")
            ]
            groups = [
                group_from_row(row)
                for row in conn.execute("SELECT name, selector FROM groups_ ORDER BY name")
            ]
            deployments = [
                deployment_from_row(row)
                for row in conn.execute(f"SELECT {_DEPLOYMENT_COLUMNS} FROM deployments")
            ]
            controls = [
                control_from_row(row)
                for row in conn.execute(f"SELECT {CONTROL_COLUMNS} FROM bundle_control")
            ]
            return Snapshot(bundles, clusters, groups, deployments, controls)

        return await self._run(load)

    # SQLite serves one hub, which never re-reads what it wrote: these exist for the Protocol
    # (and the contract suite), so they filter a full load rather than carry their own SQL.
    async def load_bundle(self, name: str) -> BundleRecord | None:
        return next((b for b in (await self.load()).bundles if b.name == name), None)

    async def load_cluster(self, cluster_id: str) -> ClusterRecord | None:
        return next((c for c in (await self.load()).clusters if c.id == cluster_id), None)

    async def load_group(self, name: str) -> GroupRecord | None:
        return next((g for g in (await self.load()).groups if g.name == name), None)

    async def load_control(self, name: str) -> BundleControl | None:
        return next((c for c in (await self.load()).controls if c.name == name), None)

    async def load_deployments(self, keys: Sequence[tuple[str, str]]) -> list[DeploymentRecord]:
        wanted = set(keys)
        return [d for d in (await self.load()).deployments if (d.bundle, d.cluster_id) in wanted]

    async def put_bundles(
        self,
        bundles: Sequence[BundleRecord],
        resource_sets: Mapping[str, bytes],
        *,
        history: Sequence[HistoryEntry] = (),
        history_limit: int = 0,
    ) -> dict[str, int]:
        def put(conn: sqlite3.Connection) -> dict[str, int]:
            with _transaction(conn):
                revs = _insert_history(conn, history, history_limit)
                _insert_resource_sets(conn, resource_sets)
                conn.executemany(
                    "INSERT INTO bundles(name, labels, files, revision, resource_count, created, "
                    "updated) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
                    "labels=excluded.labels, files=excluded.files, revision=excluded.revision, "
                    "resource_count=excluded.resource_count, updated=excluded.updated",
                    [
                        (
                            b.name,
                            labels_to_json(b.labels),
                            files_to_json(b.files),
                            b.revision,
                            b.resource_count,
                            b.created,
                            b.updated,
                        )
                        for b in bundles
                    ],
                )
            return revs

        return await self._run(put)

    async def list_history(self, bundle: str) -> list[HistoryEntry]:
        def get(conn: sqlite3.Connection) -> list[HistoryEntry]:
            return [
                history_from_row(row)
                for row in conn.execute(
                    f"SELECT {HISTORY_COLUMNS} FROM bundle_history WHERE bundle = ? ORDER BY rev",
                    (bundle,),
                )
            ]

        return await self._run(get)

    async def delete_bundle(self, name: str) -> None:
        def delete(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                conn.execute("DELETE FROM bundles WHERE name = ?", (name,))
                conn.execute("DELETE FROM bundle_control WHERE name = ?", (name,))
                conn.execute("DELETE FROM bundle_history WHERE bundle = ?", (name,))

        await self._run(delete)

    async def put_resource_sets(self, resource_sets: Mapping[str, bytes]) -> None:
        def put(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                _insert_resource_sets(conn, resource_sets)

        await self._run(put)

    async def get_resource_set(self, revision: str) -> bytes | None:
        def get(conn: sqlite3.Connection) -> bytes | None:
            row = conn.execute(
                "SELECT data FROM resource_sets WHERE revision = ?", (revision,)
            ).fetchone()
            return bytes(row[0]) if row else None

        return await self._run(get)

    async def put_cluster(self, cluster: ClusterRecord) -> None:
        def put(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                conn.execute(
                    "INSERT INTO clusters(id, name, labels, credential_hash, created, last_seen, "
                    "revoked, label_overrides) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET "
                    "name=excluded.name, labels=excluded.labels, "
                    "credential_hash=excluded.credential_hash, last_seen=excluded.last_seen, "
                    "revoked=excluded.revoked, label_overrides=excluded.label_overrides",
                    (
                        cluster.id,
                        cluster.name,
                        labels_to_json(cluster.labels),
                        cluster.credential_hash,
                        cluster.created,
                        cluster.last_seen,
                        int(cluster.revoked),
                        overrides_to_json(cluster.label_overrides),
                    ),
                )

        await self._run(put)

    async def delete_cluster(self, cluster_id: str) -> None:
        def delete(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                conn.execute("DELETE FROM deployments WHERE cluster_id = ?", (cluster_id,))
                conn.execute("DELETE FROM clusters WHERE id = ?", (cluster_id,))

        await self._run(delete)

    async def put_revoked_name(self, revoked: RevokedName) -> None:
        def put(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                conn.execute(
                    "INSERT INTO revoked_names(name, revoked, token_ids) VALUES (?, ?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET revoked=excluded.revoked, "
                    "token_ids=excluded.token_ids",
                    (revoked.name, revoked.revoked, json.dumps(list(revoked.token_ids))),
                )

        await self._run(put)

    async def get_revoked_name(self, name: str) -> RevokedName | None:
        def get(conn: sqlite3.Connection) -> RevokedName | None:
            row = conn.execute(
                "SELECT name, revoked, token_ids FROM revoked_names WHERE name = ?", (name,)
            ).fetchone()
            return None if row is None else RevokedName(row[0], row[1], tuple(json.loads(row[2])))

        return await self._run(get)

    async def forget_revoked_name(self, name: str) -> None:
        def forget(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                conn.execute("DELETE FROM revoked_names WHERE name = ?", (name,))

        await self._run(forget)

    async def touch_clusters(self, last_seen: Mapping[str, int]) -> None:
        def touch(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                conn.executemany(
                    "UPDATE clusters SET last_seen = ? WHERE id = ?",
                    [(t, i) for i, t in last_seen.items()],
                )

        await self._run(touch)

    async def put_group(self, group: GroupRecord) -> None:
        def put(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                conn.execute(
                    "INSERT INTO groups_(name, selector) VALUES (?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET selector=excluded.selector",
                    (group.name, selector_to_json(group.selector)),
                )

        await self._run(put)

    async def delete_group(self, name: str) -> None:
        def delete(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                conn.execute("DELETE FROM groups_ WHERE name = ?", (name,))

        await self._run(delete)

    async def put_token(self, token: TokenRecord) -> None:
        def put(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                conn.execute(
                    "INSERT INTO tokens(id, secret_hash, created, expires, revoked, uses, "
                    "max_uses) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                    "revoked=excluded.revoked, uses=excluded.uses, expires=excluded.expires, "
                    "max_uses=excluded.max_uses",
                    (
                        token.id,
                        token.secret_hash,
                        token.created,
                        token.expires,
                        int(token.revoked),
                        token.uses,
                        token.max_uses,
                    ),
                )

        await self._run(put)

    async def list_tokens(self) -> list[TokenRecord]:
        def list_(conn: sqlite3.Connection) -> list[TokenRecord]:
            return [
                token_from_row(row)
                for row in conn.execute(f"SELECT {_TOKEN_COLUMNS} FROM tokens ORDER BY created, id")
            ]

        return await self._run(list_)

    async def use_token(self, secret_hash: str, *, now: int) -> TokenRecord | None:
        """Count one use of a valid token, atomically; None when unknown, revoked, expired or
        used up."""

        def use(conn: sqlite3.Connection) -> TokenRecord | None:
            with _transaction(conn):
                row = conn.execute(
                    f"SELECT {_TOKEN_COLUMNS} FROM tokens WHERE secret_hash = ?", (secret_hash,)
                ).fetchone()
                if row is None:
                    return None
                token = token_from_row(row)
                if not token_usable(token, now=now):
                    return None
                conn.execute("UPDATE tokens SET uses = uses + 1 WHERE id = ?", (token.id,))
                return token

        return await self._run(use)

    async def put_admin_token(self, token: AdminTokenRecord) -> None:
        def put(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                conn.execute(
                    "INSERT INTO admin_tokens(id, secret_hash, role, created, revoked) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET revoked=excluded.revoked",
                    (token.id, token.secret_hash, token.role, token.created, int(token.revoked)),
                )

        await self._run(put)

    async def get_admin_token(self, secret_hash: str) -> AdminTokenRecord | None:
        def get(conn: sqlite3.Connection) -> AdminTokenRecord | None:
            row = conn.execute(
                f"SELECT {_ADMIN_TOKEN_COLUMNS} FROM admin_tokens WHERE secret_hash = ?",
                (secret_hash,),
            ).fetchone()
            return None if row is None else admin_token_from_row(row)

        return await self._run(get)

    async def list_admin_tokens(self) -> list[AdminTokenRecord]:
        def list_(conn: sqlite3.Connection) -> list[AdminTokenRecord]:
            return [
                admin_token_from_row(row)
                for row in conn.execute(
                    f"SELECT {_ADMIN_TOKEN_COLUMNS} FROM admin_tokens ORDER BY created, id"
                )
            ]

        return await self._run(list_)

    async def shared_secret(self, name: str, value: bytes) -> bytes:
        def get(conn: sqlite3.Connection) -> bytes:
            with _transaction(conn):
                conn.execute(
                    "INSERT OR IGNORE INTO secrets(name, value) VALUES (?, ?)", (name, value)
                )
                row = conn.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()
                return bytes(row[0])

        return await self._run(get)

    async def put_repo(self, repo: RepoRecord) -> None:
        def put(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                conn.execute(
                    f"INSERT OR REPLACE INTO repos({REPO_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    repo_to_row(repo),
                )

        await self._run(put)

    async def list_repos(self) -> list[RepoRecord]:
        def get(conn: sqlite3.Connection) -> list[RepoRecord]:
            rows = conn.execute(f"SELECT {REPO_COLUMNS} FROM repos ORDER BY name")
            return [repo_from_row(r) for r in rows]

        return await self._run(get)

    async def delete_repo(self, name: str) -> None:
        def delete(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                conn.execute("DELETE FROM repos WHERE name = ?", (name,))

        await self._run(delete)

    async def put_source_secret(self, secret: SourceSecret) -> None:
        def put(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                conn.execute(
                    f"INSERT OR REPLACE INTO source_secrets({SOURCE_SECRET_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    source_secret_to_row(secret),
                )

        await self._run(put)

    async def get_source_secret(self, name: str) -> SourceSecret | None:
        def get(conn: sqlite3.Connection) -> SourceSecret | None:
            row = conn.execute(
                f"SELECT {SOURCE_SECRET_COLUMNS} FROM source_secrets WHERE name = ?", (name,)
            ).fetchone()
            return None if row is None else source_secret_from_row(row)

        return await self._run(get)

    async def list_source_secrets(self) -> list[str]:
        def get(conn: sqlite3.Connection) -> list[str]:
            return [r[0] for r in conn.execute("SELECT name FROM source_secrets ORDER BY name")]

        return await self._run(get)

    async def delete_source_secret(self, name: str) -> None:
        def delete(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                conn.execute("DELETE FROM source_secrets WHERE name = ?", (name,))

        await self._run(delete)

    async def save_deployments(
        self, upserts: Sequence[DeploymentRecord], deletes: Sequence[tuple[str, str]]
    ) -> None:
        def save(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                conn.executemany(
                    "DELETE FROM deployments WHERE bundle = ? AND cluster_id = ?", deletes
                )
                conn.executemany(
                    "INSERT INTO deployments(bundle, cluster_id, desired, acked, error, "
                    "status_revision, ready, resources, released) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT(bundle, cluster_id) DO UPDATE SET desired=excluded.desired, "
                    "acked=excluded.acked, error=excluded.error, "
                    "status_revision=excluded.status_revision, ready=excluded.ready, "
                    "resources=excluded.resources, released=excluded.released",
                    [
                        (
                            d.bundle,
                            d.cluster_id,
                            d.desired,
                            d.acked,
                            d.error,
                            d.status_revision,
                            int(d.ready),
                            resources_to_json(d.resources),
                            d.released,
                        )
                        for d in upserts
                    ],
                )

        await self._run(save)

    async def put_bundle_control(self, control: BundleControl) -> None:
        def put(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                conn.execute(
                    "INSERT INTO bundle_control(name, paused, halted, pinned) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET paused=excluded.paused, "
                    "halted=excluded.halted, pinned=excluded.pinned",
                    (
                        control.name,
                        None if control.paused is None else int(control.paused),
                        control.halted,
                        control.pinned,
                    ),
                )

        await self._run(put)

    async def append_events(self, events: Sequence[EventRecord], *, keep: int) -> list[EventRecord]:
        def append(conn: sqlite3.Connection) -> list[EventRecord]:
            with _transaction(conn):
                # One writer in an IMMEDIATE transaction: AUTOINCREMENT numbers the rows one
                # after another from the last number ever used, trimmed or not.
                row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'")
                last = (row.fetchone() or (0,))[0]
                conn.executemany(
                    f"INSERT INTO events({_EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [_event_row(e) for e in events],
                )
                _trim_events(conn, keep)
            return [replace(e, seq=last + i) for i, e in enumerate(events, 1)]

        return await self._run(append)

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

        def get(conn: sqlite3.Connection) -> list[EventRecord]:
            rows = conn.execute(
                f"SELECT seq, {_EVENT_COLUMNS} FROM events WHERE seq > ? "
                "AND (? = '' OR bundle = ?) AND (? = '' OR cluster = ?) AND (? = '' OR kind = ?) "
                f"ORDER BY seq {order} LIMIT ?",
                (since_seq, bundle, bundle, cluster, cluster, kind, kind, limit),
            ).fetchall()
            return [_event_from_row(r) for r in (rows if since_seq > 0 else reversed(rows))]

        return await self._run(get)


def _insert_history(
    conn: sqlite3.Connection, history: Sequence[HistoryEntry], limit: int
) -> dict[str, int]:
    """Add entries, each at its bundle's next rev, and trim each bundle to `limit` (0: all)."""
    revs: dict[str, int] = {}
    for e in history:
        (last,) = conn.execute(
            "SELECT COALESCE(MAX(rev), 0) FROM bundle_history WHERE bundle = ?", (e.bundle,)
        ).fetchone()
        rev = revs[e.bundle] = last + 1
        conn.execute(
            f"INSERT INTO bundle_history({HISTORY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                e.bundle,
                rev,
                e.revision,
                e.created,
                e.actor,
                e.summary,
                labels_to_json(e.labels),
                files_to_json(e.files),
                e.rollback_of,
            ),
        )
        if limit:
            conn.execute(
                "DELETE FROM bundle_history WHERE bundle = ? AND rev <= ?", (e.bundle, rev - limit)
            )
    return revs


def _migrate(conn: sqlite3.Connection) -> None:
    """Apply the due SQLITE_MIGRATIONS in one transaction and record the version reached."""
    conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    recorded = int(row[0]) if row else 0
    # Version 1 is re-applied to a file recorded at 1: see SQLITE_MIGRATIONS for why.
    applied = set(range(1, recorded + 1)) if recorded > 1 else set()
    pending = due(SQLITE_MIGRATIONS, applied)
    if not pending:
        return
    # executescript commits whatever is open before it runs, so the transaction is part of the
    # script: all due migrations and the version they reach, or none of them.
    script = "\n".join(
        [
            "BEGIN IMMEDIATE;",
            *(m.sql for m in pending),
            "INSERT INTO meta(key, value) VALUES ('schema_version', "
            f"'{int(SCHEMA_VERSION)}') ON CONFLICT(key) DO UPDATE SET value = excluded.value;",
            "COMMIT;",
        ]
    )
    try:
        conn.executescript(script)
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _insert_resource_sets(conn: sqlite3.Connection, resource_sets: Mapping[str, bytes]) -> None:
    conn.executemany(
        "INSERT OR IGNORE INTO resource_sets(revision, data) VALUES (?, ?)",
        list(resource_sets.items()),
    )


class _transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error: a multi-row change is all or none."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._conn.execute("ROLLBACK" if exc_type else "COMMIT")


def _event_row(e: EventRecord) -> tuple[float, str, str, str, str, str, str]:
    return (e.time, e.kind, e.bundle, e.cluster, e.revision, e.actor, e.message)


def _event_from_row(r: Sequence[object]) -> EventRecord:
    seq, time, kind, bundle, cluster, revision, actor, message = r
    return EventRecord(
        seq=int(seq),  # type: ignore[call-overload]
        time=float(time),  # type: ignore[arg-type]
        kind=str(kind),
        bundle=str(bundle),
        cluster=str(cluster),
        revision=str(revision),
        actor=str(actor),
        message=str(message),
    )


def _trim_events(conn: sqlite3.Connection, keep: int) -> None:
    """Keep the newest `keep` state changes and the newest `keep` other events (walking the
    primary key's index down, without a count; at most about 2 * keep rows)."""
    for same in ("=", "<>"):
        conn.execute(
            f"DELETE FROM events WHERE kind {same} ? AND seq <= "
            f"(SELECT seq FROM events WHERE kind {same} ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
            (STATE_CHANGES, STATE_CHANGES, keep),
        )
