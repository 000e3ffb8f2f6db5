"""This replica's end of the change feed: one dedicated connection and the loops around it.

One dedicated connection per replica, not a pooled one (asyncpg resets a pooled connection with
UNLISTEN and pg_advisory_unlock_all), carries LISTEN, the NOTIFYs (one sender: a replica's
messages arrive in the order it sent them) and the rollout leases (leases.py), which
PostgreSQL frees when the connection ends.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import deque
from collections.abc import Sequence

import asyncpg

from hub.replication.applying import ReplicaFleet, apply_change
from hub.replication.leases import try_lease
from hub.replication.messages import CHANNEL, Change, Outgoing, decode, encode, merge, take
from hub.replication.peers import PeerTable

log = logging.getLogger(__name__)


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
        self._timeout = timeout
        self._conn: asyncpg.Connection[asyncpg.Record] | None = None
        self._conn_lock = asyncio.Lock()
        self._leases: set[str] = set()
        self._out: list[Outgoing] = []
        self._out_wake = asyncio.Event()
        self._in: deque[Change] = deque()
        self._in_wake = asyncio.Event()
        self._lost = asyncio.Event()
        self._peers = PeerTable(timeout=peer_timeout)

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

    def first(self) -> bool:
        return self._peers.first(self.origin)

    async def lead(self, bundle: str) -> bool:
        if bundle in self._leases:
            return True
        try:
            async with self._conn_lock:
                if self._conn is None:
                    return False
                won = await try_lease(self._conn, bundle, timeout=self._timeout)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("cannot take the rollout lease of bundle %s: %s", bundle, exc)
            self._lost.set()
            return False
        if won:
            self._leases.add(bundle)
            log.info("this replica now decides the rollout of bundle %s", bundle)
        return won

    # --- the loops -----------------------------------------------------------------------------

    async def run(self, fleet: ReplicaFleet) -> None:
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
        change = decode(str(payload))
        if change is None:
            log.warning("unreadable change notification: %.200s", payload)
            return
        if change.origin == self.origin:
            return  # our own
        # Alive as of receipt, not of apply: behind a backlog of changes (a connect storm's
        # registrations and attaches) a peer's "alive" was applied more than the timeout late,
        # the peer taken for dead, its N streams for down, and all of them attached again
        # when it was "heard" anew: O(N) churn every few seconds while the backlog lasted.
        self._peers.received(change.origin, time.monotonic())
        self._in.append(change)
        self._in_wake.set()

    async def _send(self) -> None:
        while True:
            await self._out_wake.wait()
            self._out_wake.clear()
            batch, self._out = self._out, []
            payloads = [
                p
                for kind, name, revision, ids in merge(batch)
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

    async def _apply(self, fleet: ReplicaFleet) -> None:
        while True:
            await self._in_wake.wait()
            self._in_wake.clear()
            while self._in:
                await self.apply_next(fleet)

    async def apply_next(self, fleet: ReplicaFleet) -> None:
        """Apply the next received change (with any deployment changes queued behind it)."""
        change = take(self._in)
        if self._peers.heard(change.origin, time.monotonic()):
            log.info("hub replica %s joined", change.origin)
            # Tell the newcomer which streams this replica holds.
            attached = fleet.attached_here()
            if attached:
                self.publish("attach", ids=attached)
        try:
            await apply_change(fleet, change)
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            log.warning("could not apply a change from replica %s: %s", change.origin, exc)

    async def _alive(self, fleet: ReplicaFleet) -> None:
        while True:
            self.publish("alive")
            await asyncio.sleep(self._alive_interval)
            for origin, silence in self._peers.expire(time.monotonic()):
                log.warning(
                    "hub replica %s silent for %.0fs: taking its streams for down",
                    origin,
                    silence,
                )
                fleet.peer_gone(origin)


class _Lost(Exception):
    """Ends the feed's task group when its connection is gone."""
