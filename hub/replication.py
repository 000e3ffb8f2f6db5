"""The change feed between hub replicas that share one PostgreSQL database.

Every replica holds the whole fleet in memory (hub/fleet.py) and writes it through to the
shared store. What one replica commits, the others must learn, within a second:

- after each committed write, the replica NOTIFYs channel `argosy_changes` with what changed
  (a bundle, cluster, group or rollout control by name; deployment rows by key). The others
  re-read just that from the store and re-plan, as if the change had been made locally;
- the replica holding a cluster's stream announces it (attach/detach), and every replica says
  it is alive each second; one silent for `peer_timeout` is taken for dead, and the streams it
  held for down (their spokes reconnect to a live replica);
- rollout releases are decided by one replica per bundle, the holder of a session-level
  advisory lock on the bundle (`pg_try_advisory_lock`), which then NOTIFYs what it released.

LISTEN/NOTIFY, not a change-log table: the change itself is in the ordinary tables already,
so the feed carries only names, and a replica that missed notifications (its connection
dropped) re-reads the store (`Fleet.resync`) instead of replaying a log that would need
trimming. NOTIFY adds no table writes to the hot write-behind path.

One dedicated connection per replica, not a pooled one (asyncpg resets a pooled connection with
UNLISTEN and pg_advisory_unlock_all), carries LISTEN, the NOTIFYs (one sender: a replica's
messages arrive in the order it sent them) and the rollout locks, which PostgreSQL frees when
the connection ends: a dead replica's leases pass to the others without a timeout.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import time
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

from hub.fleet import Fleet
from hub.models import BundleControl, BundleRecord, ClusterRecord, DeploymentRecord, GroupRecord
from hub.store import Store

log = logging.getLogger(__name__)

CHANNEL = "argosy_changes"
# PostgreSQL refuses a NOTIFY payload of 8000 bytes or more.
MAX_PAYLOAD = 7000
# Kinds whose consecutive messages merge into one (their ids are a set, not an order).
_MERGEABLE = {"attach", "detach", "deployments"}


def lock_key(bundle: str) -> int:
    """The advisory lock key for a bundle's rollout: 64 bits of a hash, signed as PG wants."""
    digest = hashlib.sha256(b"argosy-rollout\0" + bundle.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def encode(origin: str, kind: str, name: str, revision: str, ids: Sequence[str]) -> list[str]:
    """One change as NOTIFY payloads, its ids split so that none exceeds MAX_PAYLOAD."""
    head = {"o": origin, "k": kind, "n": name, "r": revision}
    base = len(json.dumps({**head, "ids": []}))
    out: list[str] = []
    chunk: list[str] = []
    size = base
    for i in ids:
        n = len(json.dumps(i)) + 2
        if chunk and size + n > MAX_PAYLOAD:
            out.append(json.dumps({**head, "ids": chunk}))
            chunk, size = [], base
        chunk.append(i)
        size += n
    if chunk or not ids:
        out.append(json.dumps({**head, "ids": chunk}))
    return out


class Replication:
    """This replica's side of the feed: `publish` and `lead` for the fleet, `run` applies."""

    def __init__(
        self,
        dsn: str,
        *,
        alive_interval: float = 1.0,
        peer_timeout: float = 5.0,
        timeout: float = 30.0,
    ) -> None:
        self.origin = secrets.token_hex(8)
        self._dsn = dsn
        self._alive_interval = alive_interval
        self._peer_timeout = peer_timeout
        self._timeout = timeout
        self._conn: asyncpg.Connection[asyncpg.Record] | None = None
        self._conn_lock = asyncio.Lock()
        self._leases: set[str] = set()
        self._out: list[tuple[str, str, str, tuple[str, ...]]] = []
        self._out_wake = asyncio.Event()
        self._in: deque[dict[str, Any]] = deque()
        self._in_wake = asyncio.Event()
        self._lost = asyncio.Event()
        self._peers: dict[str, float] = {}

    async def open(self) -> None:
        """Connect and LISTEN. Before the fleet loads: a change made meanwhile is then in the
        snapshot, or in the feed, or both (re-applying a change is harmless)."""
        conn = await asyncpg.connect(self._dsn, timeout=self._timeout)
        try:
            await conn.add_listener(CHANNEL, self._on_notify)
        except BaseException:
            await conn.close(timeout=self._timeout)
            raise
        conn.add_termination_listener(lambda _: self._lost.set())
        self._conn = conn
        self._lost.clear()
        self._leases.clear()

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close(timeout=self._timeout)
            except (OSError, TimeoutError, asyncpg.PostgresError):
                conn.terminate()

    # --- what the fleet calls ------------------------------------------------------------------

    def publish(
        self, kind: str, name: str = "", *, ids: Sequence[str] = (), revision: str = ""
    ) -> None:
        self._out.append((kind, name, revision, tuple(ids)))
        self._out_wake.set()

    async def lead(self, bundle: str) -> bool:
        if bundle in self._leases:
            return True
        try:
            async with self._conn_lock:
                if self._conn is None:
                    return False
                won = await self._conn.fetchval(
                    "SELECT pg_try_advisory_lock($1)", lock_key(bundle), timeout=self._timeout
                )
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("cannot take the rollout lease of bundle %s: %s", bundle, exc)
            self._lost.set()
            return False
        if won:
            self._leases.add(bundle)
            log.info("this replica now decides the rollout of bundle %s", bundle)
        return bool(won)

    # --- the loops -----------------------------------------------------------------------------

    async def run(self, fleet: Fleet) -> None:
        """Send, receive and apply, until the connection is lost; then reconnect and resync
        (supervised by the caller: an exception here restarts it after a backoff)."""
        if self._conn is None or self._conn.is_closed():
            await self.close()
            await self.open()
            log.info("change feed reconnected; re-reading the store")
            await fleet.resync()
        lost = False
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._send(), name="replication-send")
                tasks.create_task(self._apply(fleet), name="replication-apply")
                tasks.create_task(self._alive(fleet), name="replication-alive")
                await self._lost.wait()
                raise _Lost
        except* (_Lost, ConnectionError):
            lost = True
        if lost:
            # PostgreSQL freed our advisory locks with the connection: we lead nothing now.
            self._leases.clear()
            raise ConnectionError("the change feed's connection to PostgreSQL was lost")

    def _on_notify(self, conn: object, pid: int, channel: str, payload: object) -> None:
        del conn, pid, channel
        try:
            msg = json.loads(str(payload))
        except ValueError:
            log.warning("unreadable change notification: %.200s", payload)
            return
        if msg.get("o") == self.origin:
            return  # our own
        self._in.append(msg)
        self._in_wake.set()

    async def _send(self) -> None:
        while True:
            await self._out_wake.wait()
            self._out_wake.clear()
            batch, self._out = self._out, []
            payloads = [
                p
                for kind, name, revision, ids in _merge(batch)
                for p in encode(self.origin, kind, name, revision, ids)
            ]
            try:
                async with self._conn_lock:
                    if self._conn is None:
                        raise ConnectionError("the change feed is closed")
                    await self._conn.executemany(
                        "SELECT pg_notify($1, $2)",
                        [(CHANNEL, p) for p in payloads],
                        timeout=self._timeout,
                    )
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                # Undelivered changes reach the others through their resync, once we are back.
                self._lost.set()
                raise ConnectionError(f"sending changes failed: {exc}") from exc

    async def _apply(self, fleet: Fleet) -> None:
        while True:
            await self._in_wake.wait()
            self._in_wake.clear()
            while self._in:
                msg = self._in.popleft()
                origin = str(msg.get("o", ""))
                if origin not in self._peers:
                    log.info("hub replica %s joined", origin)
                    # Tell the newcomer which streams this replica holds.
                    attached = fleet.attached_here()
                    if attached:
                        self.publish("attach", ids=attached)
                self._peers[origin] = time.monotonic()
                kind, ids = msg.get("k"), list(msg.get("ids", ()))
                if kind == "deployments":
                    # Re-read consecutive deployment batches together: one query.
                    while self._in and self._in[0].get("k") == "deployments":
                        ids.extend(self._in.popleft().get("ids", ()))
                try:
                    await self._apply_one(fleet, origin, str(kind), msg, ids)
                except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
                    log.warning("could not apply a change from replica %s: %s", origin, exc)

    @staticmethod
    async def _apply_one(
        fleet: Fleet, origin: str, kind: str, msg: Mapping[str, Any], ids: list[str]
    ) -> None:
        name = str(msg.get("n", ""))
        if kind == "bundle":
            await fleet.reload_bundle(name)
        elif kind == "cluster":
            await fleet.reload_cluster(name)
        elif kind == "group":
            await fleet.reload_group(name)
        elif kind == "control":
            await fleet.reload_control(name)
        elif kind == "deployments":
            await fleet.import_deployments([_pair(i) for i in ids])
        elif kind == "released":
            fleet.remote_released(name, [_pair(i) for i in ids])
        elif kind == "retry":
            fleet.remote_retry(name, ids)
        elif kind in ("attach", "detach"):
            fleet.remote_attached(origin, ids, attached=kind == "attach")
        elif kind != "alive":
            log.warning("unknown change kind %r from replica %s", kind, origin)

    async def _alive(self, fleet: Fleet) -> None:
        while True:
            self.publish("alive")
            await asyncio.sleep(self._alive_interval)
            now = time.monotonic()
            for origin, heard in list(self._peers.items()):
                if now - heard > self._peer_timeout:
                    del self._peers[origin]
                    log.warning(
                        "hub replica %s silent for %.0fs: taking its streams for down",
                        origin,
                        now - heard,
                    )
                    fleet.peer_gone(origin)


class _Lost(Exception):
    """Ends the feed's task group when its connection is gone."""


def _merge(
    batch: Sequence[tuple[str, str, str, tuple[str, ...]]],
) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """Consecutive attach/detach/deployments messages as one each; order otherwise kept."""
    out: list[tuple[str, str, str, tuple[str, ...]]] = []
    for kind, name, revision, ids in batch:
        if out and kind in _MERGEABLE and out[-1][0] == kind:
            out[-1] = (kind, name, revision, out[-1][3] + ids)
        elif out and kind == "alive" and out[-1][0] == "alive":
            continue
        else:
            out.append((kind, name, revision, ids))
    return out


def _pair(text: str) -> tuple[str, str]:
    a, _, b = str(text).partition("/")
    return a, b


class PublishingStore:
    """A store that tells the other replicas about each committed change it writes.

    Wrapping the store, rather than calling `publish` at each admin call site, means every
    change that reaches the database is announced, including ones added later, and only once
    it is committed. Reads and anything not listed here pass straight through.
    """

    def __init__(self, store: Store, replication: Replication) -> None:
        self._store = store
        self._replication = replication

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def put_bundles(
        self, bundles: Sequence[BundleRecord], resource_sets: Mapping[str, bytes]
    ) -> None:
        await self._store.put_bundles(bundles, resource_sets)
        for b in dict.fromkeys(b.name for b in bundles):
            self._replication.publish("bundle", b)

    async def delete_bundle(self, name: str) -> None:
        await self._store.delete_bundle(name)
        self._replication.publish("bundle", name)

    async def put_cluster(self, cluster: ClusterRecord) -> None:
        await self._store.put_cluster(cluster)
        self._replication.publish("cluster", cluster.id)

    async def delete_cluster(self, cluster_id: str) -> None:
        await self._store.delete_cluster(cluster_id)
        self._replication.publish("cluster", cluster_id)

    async def put_group(self, group: GroupRecord) -> None:
        await self._store.put_group(group)
        self._replication.publish("group", group.name)

    async def delete_group(self, name: str) -> None:
        await self._store.delete_group(name)
        self._replication.publish("group", name)

    async def put_bundle_control(self, control: BundleControl) -> None:
        await self._store.put_bundle_control(control)
        self._replication.publish("control", control.name)

    async def save_deployments(
        self, upserts: Sequence[DeploymentRecord], deletes: Sequence[tuple[str, str]]
    ) -> None:
        await self._store.save_deployments(upserts, deletes)
        # Deleted rows need no word: the replicas delete them themselves, from the same change.
        if upserts:
            self._replication.publish(
                "deployments", ids=[f"{d.bundle}/{d.cluster_id}" for d in upserts]
            )
