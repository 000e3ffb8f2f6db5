"""Persistence behind a small interface, with embedded SQLite (WAL) as the default.

The hub keeps its working state in memory and writes through this interface. No SQL lives
outside this module, so a PostgreSQL store for several replicas can sit behind the same
Protocol. SQLite runs on one dedicated thread: the event loop never waits on disk.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from argosy.selectors import LabelSelector, Requirement
from hub.models import (
    AdminTokenRecord,
    BundleControl,
    BundleRecord,
    ClusterRecord,
    DeploymentRecord,
    GroupRecord,
    ResourceStateRecord,
    RevokedName,
    TokenRecord,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Snapshot:
    """Everything the hub loads at start to rebuild its in-memory state."""

    bundles: Sequence[BundleRecord]
    clusters: Sequence[ClusterRecord]
    groups: Sequence[GroupRecord]
    deployments: Sequence[DeploymentRecord]
    controls: Sequence[BundleControl] = ()


class Store(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def load(self) -> Snapshot: ...
    async def put_bundles(
        self, bundles: Sequence[BundleRecord], resource_sets: Mapping[str, bytes]
    ) -> None: ...
    async def delete_bundle(self, name: str) -> None: ...
    async def put_resource_sets(self, resource_sets: Mapping[str, bytes]) -> None: ...
    async def get_resource_set(self, revision: str) -> bytes | None: ...
    async def put_cluster(self, cluster: ClusterRecord) -> None: ...
    async def delete_cluster(self, cluster_id: str) -> None: ...
    async def touch_clusters(self, last_seen: Mapping[str, int]) -> None: ...
    async def put_revoked_name(self, revoked: RevokedName) -> None: ...
    async def get_revoked_name(self, name: str) -> RevokedName | None: ...
    async def forget_revoked_name(self, name: str) -> None: ...
    async def put_group(self, group: GroupRecord) -> None: ...
    async def delete_group(self, name: str) -> None: ...
    async def put_token(self, token: TokenRecord) -> None: ...
    async def list_tokens(self) -> list[TokenRecord]: ...
    async def use_token(self, secret_hash: str, *, now: int) -> TokenRecord | None: ...
    async def save_deployments(
        self, upserts: Sequence[DeploymentRecord], deletes: Sequence[tuple[str, str]]
    ) -> None: ...
    async def put_bundle_control(self, control: BundleControl) -> None: ...
    async def put_admin_token(self, token: AdminTokenRecord) -> None: ...
    async def get_admin_token(self, secret_hash: str) -> AdminTokenRecord | None: ...
    async def list_admin_tokens(self) -> list[AdminTokenRecord]: ...
    async def shared_secret(self, name: str, value: bytes) -> bytes:
        """The stored value of a hub-wide secret (the CA): value is kept if there is none yet,
        so replicas starting together agree on one."""
        ...

    # Re-reads of single records, for hub replicas sharing one database (hub/replication.py):
    # a replica told that another changed something loads just that. None: it is gone.
    async def load_bundle(self, name: str) -> BundleRecord | None: ...
    async def load_cluster(self, cluster_id: str) -> ClusterRecord | None: ...
    async def load_group(self, name: str) -> GroupRecord | None: ...
    async def load_control(self, name: str) -> BundleControl | None: ...
    async def load_deployments(self, keys: Sequence[tuple[str, str]]) -> list[DeploymentRecord]: ...


SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bundles (
    name TEXT PRIMARY KEY, labels TEXT NOT NULL, files TEXT NOT NULL, revision TEXT NOT NULL,
    resource_count INTEGER NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL);
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
    bundle TEXT NOT NULL, cluster_id TEXT NOT NULL, desired TEXT NOT NULL, acked TEXT NOT NULL,
    error TEXT NOT NULL, status_revision TEXT NOT NULL, ready INTEGER NOT NULL,
    resources TEXT NOT NULL, released TEXT NOT NULL, PRIMARY KEY (bundle, cluster_id));
CREATE TABLE IF NOT EXISTS bundle_control (
    name TEXT PRIMARY KEY, paused INTEGER, halted TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS revoked_names (
    name TEXT PRIMARY KEY, revoked INTEGER NOT NULL, token_ids TEXT NOT NULL);
"""


def _selector_to_json(selector: LabelSelector) -> str:
    return json.dumps(
        {
            "matchLabels": dict(selector.match_labels),
            "matchExpressions": [
                {"key": r.key, "operator": r.operator, "values": list(r.values)}
                for r in selector.match_expressions
            ],
        },
        sort_keys=True,
    )


def _selector_from_json(text: str) -> LabelSelector:
    data = json.loads(text)
    return LabelSelector(
        dict(data.get("matchLabels", {})),
        tuple(
            Requirement(e["key"], e["operator"], tuple(e.get("values", ())))
            for e in data.get("matchExpressions", ())
        ),
    )


def _files_to_json(files: Mapping[str, bytes]) -> str:
    # Bundle files are text in practice; latin-1 round-trips any bytes losslessly.
    return json.dumps({p: c.decode("latin-1") for p, c in sorted(files.items())})


def _files_from_json(text: str) -> dict[str, bytes]:
    return {p: c.encode("latin-1") for p, c in json.loads(text).items()}


def _resources_to_json(resources: Iterable[ResourceStateRecord]) -> str:
    return json.dumps([[r.key, r.ready, r.modified, r.missing, r.message] for r in resources])


def _resources_from_json(text: str) -> tuple[ResourceStateRecord, ...]:
    return tuple(ResourceStateRecord(*row) for row in json.loads(text))


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
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.executescript(_SCHEMA)
            conn.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
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
                BundleRecord(n, json.loads(lb), _files_from_json(f), r, c, cr, u)
                for n, lb, f, r, c, cr, u in conn.execute(
                    "SELECT name, labels, files, revision, resource_count, created, updated "
                    "FROM bundles ORDER BY name"
                )
            ]
            clusters = [
                ClusterRecord(i, n, json.loads(lb), h, c, s, bool(rv))
                for i, n, lb, h, c, s, rv in conn.execute(
                    "SELECT id, name, labels, credential_hash, created, last_seen, revoked "
                    "FROM clusters ORDER BY name"
                )
            ]
            groups = [
                GroupRecord(n, _selector_from_json(s))
                for n, s in conn.execute("SELECT name, selector FROM groups_ ORDER BY name")
            ]
            deployments = [
                DeploymentRecord(b, c, d, a, e, sr, bool(rd), _resources_from_json(rs), rl)
                for b, c, d, a, e, sr, rd, rs, rl in conn.execute(
                    "SELECT bundle, cluster_id, desired, acked, error, status_revision, ready, "
                    "resources, released FROM deployments"
                )
            ]
            controls = [
                BundleControl(n, None if p is None else bool(p), h)
                for n, p, h in conn.execute("SELECT name, paused, halted FROM bundle_control")
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
        self, bundles: Sequence[BundleRecord], resource_sets: Mapping[str, bytes]
    ) -> None:
        def put(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                _insert_resource_sets(conn, resource_sets)
                conn.executemany(
                    "INSERT INTO bundles(name, labels, files, revision, resource_count, created, "
                    "updated) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
                    "labels=excluded.labels, files=excluded.files, revision=excluded.revision, "
                    "resource_count=excluded.resource_count, updated=excluded.updated",
                    [
                        (
                            b.name,
                            json.dumps(dict(b.labels), sort_keys=True),
                            _files_to_json(b.files),
                            b.revision,
                            b.resource_count,
                            b.created,
                            b.updated,
                        )
                        for b in bundles
                    ],
                )

        await self._run(put)

    async def delete_bundle(self, name: str) -> None:
        def delete(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                conn.execute("DELETE FROM bundles WHERE name = ?", (name,))
                conn.execute("DELETE FROM bundle_control WHERE name = ?", (name,))

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
                    "revoked) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                    "name=excluded.name, labels=excluded.labels, "
                    "credential_hash=excluded.credential_hash, last_seen=excluded.last_seen, "
                    "revoked=excluded.revoked",
                    (
                        cluster.id,
                        cluster.name,
                        json.dumps(dict(cluster.labels), sort_keys=True),
                        cluster.credential_hash,
                        cluster.created,
                        cluster.last_seen,
                        int(cluster.revoked),
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
                    (group.name, _selector_to_json(group.selector)),
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
                TokenRecord(i, h, c, e, bool(r), u, m)
                for i, h, c, e, r, u, m in conn.execute(
                    "SELECT id, secret_hash, created, expires, revoked, uses, max_uses "
                    "FROM tokens ORDER BY created, id"
                )
            ]

        return await self._run(list_)

    async def use_token(self, secret_hash: str, *, now: int) -> TokenRecord | None:
        """Count one use of a valid token, atomically; None when unknown, revoked, expired or
        used up."""

        def use(conn: sqlite3.Connection) -> TokenRecord | None:
            with _transaction(conn):
                row = conn.execute(
                    "SELECT id, secret_hash, created, expires, revoked, uses, max_uses "
                    "FROM tokens WHERE secret_hash = ?",
                    (secret_hash,),
                ).fetchone()
                if row is None:
                    return None
                token = TokenRecord(row[0], row[1], row[2], row[3], bool(row[4]), row[5], row[6])
                if token.revoked or (token.expires and token.expires <= now):
                    return None
                if token.max_uses and token.uses >= token.max_uses:
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
                "SELECT id, secret_hash, role, created, revoked FROM admin_tokens "
                "WHERE secret_hash = ?",
                (secret_hash,),
            ).fetchone()
            if row is None:
                return None
            return AdminTokenRecord(row[0], row[1], row[2], row[3], bool(row[4]))

        return await self._run(get)

    async def list_admin_tokens(self) -> list[AdminTokenRecord]:
        def list_(conn: sqlite3.Connection) -> list[AdminTokenRecord]:
            return [
                AdminTokenRecord(i, h, r, c, bool(rv))
                for i, h, r, c, rv in conn.execute(
                    "SELECT id, secret_hash, role, created, revoked FROM admin_tokens "
                    "ORDER BY created, id"
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
                            _resources_to_json(d.resources),
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
                    "INSERT INTO bundle_control(name, paused, halted) VALUES (?, ?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET paused=excluded.paused, "
                    "halted=excluded.halted",
                    (
                        control.name,
                        None if control.paused is None else int(control.paused),
                        control.halted,
                    ),
                )

        await self._run(put)


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
