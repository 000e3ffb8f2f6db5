"""The hub's event log: what happened to which bundle and cluster, when, and who did it.

Recording is synchronous and cheap: an admin use case, the liveness sweeper or the rollout gate
calls `record`, which appends to a bounded in-memory ring; `run` writes the ring to the store in
one transaction per batch (write-behind, as hub/core/writebehind.py does for deployments), and
the store numbers the events and trims the log to the newest `retention` state changes and,
apart, the newest `retention` others (a rollout's state changes must not push out the rest).
Only then do live watchers (`subscribe`) see an event, numbered, so a watcher's backlog (read
from the store) and its live events join without gap or overlap.

Deployment state changes are the hot path (a rollout to 10,000 clusters is tens of thousands of
them): `deployment_changed` costs one dict lookup, and the changes of one (bundle, cluster)
within a batch are coalesced into one event, first old state to last new state, with the number
of changes in between. A deployment that flapped back to where the batch found it records
nothing.

Each watcher has a bounded queue: one that falls `watcher_queue` events behind is dropped
(`WatcherDropped`), never waited for.

Replicas on one PostgreSQL (`shared`): each replica records what it alone observes (the fleet
decides: the replica that served the call, holds the cluster's stream, or holds the rollout's
lease), so nothing is recorded twice; the store numbers all of them in one sequence, and
watchers on every replica are fed from the store. A batch that commits after one numbered later
(two replicas writing at the same moment) can be missed by a live watcher; ListEvents has it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from argosy.errors import InvalidInput, Overloaded
from argosy.states import State
from hub.models import EventRecord
from hub.persistence.protocol import Store

log = logging.getLogger(__name__)

DEFAULT_RETENTION = 10_000
"""Events kept in the store (--event-retention): of the state changes, and of the rest."""
MAX_LIST = 10_000
"""Most events one ListEvents (or a watch's backlog) returns."""


class EventKind(StrEnum):
    BUNDLE_APPLIED = "BundleApplied"
    BUNDLE_DELETED = "BundleDeleted"
    ROLLOUT_HALTED = "RolloutHalted"
    ROLLOUT_RESUMED = "RolloutResumed"
    CLUSTER_REGISTERED = "ClusterRegistered"
    CLUSTER_REVOKED = "ClusterRevoked"
    CLUSTER_DELETED = "ClusterDeleted"
    CLUSTER_OFFLINE = "ClusterOffline"
    CLUSTER_ONLINE = "ClusterOnline"
    DEPLOYMENT_STATE_CHANGED = "DeploymentStateChanged"


@dataclass(frozen=True)
class EventFilter:
    """Which events a listing or a watcher wants; '' matches anything."""

    bundle: str = ""
    cluster: str = ""
    kind: str = ""

    def __post_init__(self) -> None:
        if self.kind and self.kind not in EventKind.__members__.values():
            raise InvalidInput(
                f"kind: {self.kind!r} is not an event kind; one of "
                + ", ".join(k.value for k in EventKind)
            )

    def matches(self, event: EventRecord) -> bool:
        return (
            self.bundle in ("", event.bundle)
            and self.cluster in ("", event.cluster)
            and self.kind in ("", event.kind)
        )


def check_limit(limit: int) -> int:
    """The number of events a listing returns: 0 asks for the default (100)."""
    if limit < 0 or limit > MAX_LIST:
        raise InvalidInput(f"limit: {limit} is not between 0 and {MAX_LIST}")
    return limit or 100


class Transition:
    """The state changes of one deployment within one batch, coalesced. The cluster's name
    is taken at the first change: the cluster may be deleted before the batch is written."""

    __slots__ = ("changes", "cluster", "first", "last", "time")

    def __init__(self, first: State | None, last: State | None, now: float, cluster: str) -> None:
        self.first, self.last, self.changes, self.time = first, last, 1, now
        self.cluster = cluster


def transition_events(
    transitions: Iterable[tuple[str, str, Transition]],
    *,
    revision_of: Callable[[str, str], str],
) -> list[EventRecord]:
    """One DeploymentStateChanged per (bundle, cluster id, transition), none for a flap that
    ended where it started (pure but for the revision lookup)."""
    events = []
    for bundle, cluster_id, t in transitions:
        if t.first == t.last:
            continue
        message = f"{t.first or 'new'} -> {t.last or 'removed'}"
        if t.changes > 1:
            message += f" ({t.changes} changes)"
        events.append(
            EventRecord(
                time=t.time,
                kind=EventKind.DEPLOYMENT_STATE_CHANGED,
                bundle=bundle,
                cluster=t.cluster,
                revision=revision_of(bundle, cluster_id) if t.last is not None else "",
                message=message,
            )
        )
    return events


def requeue(
    failed: Sequence[EventRecord], pending: Iterable[EventRecord], bound: int
) -> deque[EventRecord]:
    """The ring after a batch failed to write: the batch before what came since, the oldest
    dropped beyond the bound (pure)."""
    return deque([*failed, *pending], maxlen=bound)


class WatcherDropped(Overloaded):
    """A watcher fell too far behind and was dropped."""


class Subscription:
    """One watcher's bounded queue of numbered events. Iterate it; it raises WatcherDropped
    once it has fallen `maxsize` events behind."""

    def __init__(self, wanted: EventFilter, maxsize: int) -> None:
        self.filter = wanted
        self._maxsize = maxsize
        self._queue: asyncio.Queue[EventRecord] = asyncio.Queue(maxsize)
        self.dropped = False
        self.last_seq = 0

    def offer(self, event: EventRecord) -> bool:
        """Queue event if wanted; False when the watcher is too slow and now dropped."""
        if not self.filter.matches(event):
            return True
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            # It gets nothing more; what it has queued it still reads, then it is told why.
            self.dropped = True
            return False
        return True

    def pending(self) -> list[EventRecord]:
        """What is queued now, without waiting: a consumer that batches (the dashboard sends
        one message per batch, not per event) takes the first with `anext`, the rest here."""
        out = []
        while not self._queue.empty():
            event = self._queue.get_nowait()
            if event.seq > self.last_seq:
                self.last_seq = event.seq
                out.append(event)
        return out

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> EventRecord:
        while True:
            # Dropped only with a full queue, never added to since: this cannot wait forever.
            if self.dropped and self._queue.empty():
                raise WatcherDropped(
                    f"this watch fell {self._maxsize} events behind and was dropped: watch "
                    f"again from after event {self.last_seq} (since_seq={self.last_seq})"
                )
            event = await self._queue.get()
            # Already seen: in the backlog of a watch, or fed again (replicas poll the store
            # from the lowest point any watcher needs).
            if event.seq > self.last_seq:
                self.last_seq = event.seq
                return event


class EventLog:
    def __init__(
        self,
        store: Store,
        *,
        retention: int = DEFAULT_RETENTION,
        cluster_name: Callable[[str], str] = str,
        revision_of: Callable[[str, str], str] = lambda bundle, cluster_id: "",
        watcher_queue: int = 1000,
    ) -> None:
        if retention < 1:
            raise ValueError("--event-retention must be at least 1")
        self._store = store
        self.retention = retention
        self._cluster_name = cluster_name
        self._revision_of = revision_of
        self._watcher_queue = watcher_queue
        # Recorded, not yet written: bounded so that a store that is down cannot grow the hub;
        # past the bound the oldest go (and are counted).
        self._ring: deque[EventRecord] = deque(maxlen=retention)
        self._transitions: dict[tuple[str, str], Transition] = {}
        self._subscribers: list[Subscription] = []
        self._wake = asyncio.Event()
        self.lost = 0
        # Replicas on one database (set by the fleet): every replica's watchers see every
        # replica's events, so they are fed from the store, read after each write and polled
        # while anyone watches, from the last event fed (None: no one watches yet).
        self.shared = False
        self._fed: int | None = None
        # A write a cancelled flush left running, with its batch (see flush).
        self._appending: tuple[asyncio.Task[list[EventRecord]], list[EventRecord]] | None = None

    # --- recording (synchronous, no I/O) ------------------------------------------------------

    def record(
        self,
        kind: EventKind,
        *,
        bundle: str = "",
        cluster: str = "",
        revision: str = "",
        actor: str = "",
        message: str = "",
    ) -> None:
        if len(self._ring) == self._ring.maxlen:
            self.lost += 1
        self._ring.append(
            EventRecord(
                time=time.time(),
                kind=kind,
                bundle=bundle,
                cluster=cluster,
                revision=revision,
                actor=actor,
                message=message,
            )
        )
        self._wake.set()

    def deployment_changed(
        self, bundle: str, cluster_id: str, old: State | None, new: State | None
    ) -> None:
        """A StateChanged subscriber: coalesced per deployment until the batch is written."""
        key = (bundle, cluster_id)
        t = self._transitions.get(key)
        if t is None:
            self._transitions[key] = Transition(
                old, new, time.time(), self._cluster_name(cluster_id)
            )
            self._wake.set()
        else:
            t.last, t.time = new, time.time()
            t.changes += 1

    # --- writing ------------------------------------------------------------------------------

    async def run(self, *, interval: float = 0.5) -> None:
        """Write recorded events behind, one transaction per batch (and, with replicas, read
        the other replicas' while someone watches)."""
        while True:
            if not (self.shared and self._subscribers):
                await self._wake.wait()
            await asyncio.sleep(interval)
            await self.flush()

    async def flush(self) -> None:
        await self._settle()
        self._wake.clear()
        transitions, self._transitions = self._transitions, {}
        batch = list(self._ring)
        self._ring.clear()
        batch.extend(
            transition_events(
                ((b, c, t) for (b, c), t in transitions.items()),
                revision_of=self._revision_of,
            )
        )
        if not batch:
            if self.shared:
                await self._poll()
            return
        batch.sort(key=lambda e: e.time)
        append = asyncio.create_task(
            self._store.append_events(batch, keep=self.retention), name="event-log-append"
        )
        try:
            # Shielded: cancelled (at shutdown) the store may commit anyway (SQLite's thread
            # does), so the batch is not queued again but left to finish; the next flush
            # (the final one) waits for it.
            written = await asyncio.shield(append)
        except asyncio.CancelledError:
            self._appending = (append, batch)
            raise
        except Exception:
            # Kept for the next attempt (the loop is restarted after a backoff).
            self._ring = requeue(batch, self._ring, self.retention)
            self._wake.set()
            raise
        await self._written(written)

    async def _settle(self) -> None:
        """Wait for the append a cancelled flush left running: queue its batch again only if
        it failed (then the store did not commit it)."""
        if self._appending is None:
            return
        append, batch = self._appending
        await asyncio.wait([append])  # cancelled here, it is still ours to wait for next time
        self._appending = None
        if append.cancelled() or append.exception() is not None:
            log.warning("event log: a batch cut short at shutdown failed, writing it again")
            self._ring = requeue(batch, self._ring, self.retention)
            self._wake.set()
            return
        await self._written(append.result())

    async def _written(self, written: Sequence[EventRecord]) -> None:
        if self.lost:
            log.warning("event log: %d events were lost while the store was failing", self.lost)
            self.lost = 0
        if self.shared:
            await self._poll()
        else:
            self._fan_out(written)

    async def _poll(self) -> None:
        """Feed watchers what any replica wrote since the last event fed."""
        if not self._subscribers:
            self._fed = None
            return
        if self._fed is None:
            latest = await self._store.list_events(limit=1)
            if self._fed is None:  # a watch that read its backlog meanwhile set it lower
                self._fed = latest[-1].seq if latest else 0
            return
        fresh = await self._store.list_events(since_seq=self._fed, limit=MAX_LIST)
        if fresh:
            self._fed = max(self._fed, fresh[-1].seq)
            self._fan_out(fresh)

    def _fan_out(self, events: Sequence[EventRecord]) -> None:
        if not self._subscribers:
            return
        for sub in list(self._subscribers):
            for event in events:
                if not sub.offer(event):
                    self._subscribers.remove(sub)
                    log.warning("dropped an event watcher that fell too far behind")
                    break

    # --- reading ------------------------------------------------------------------------------

    def subscribe(self, wanted: EventFilter | None = None) -> Subscription:
        """A live feed of events as they are written (for WatchEvents and dashboards)."""
        sub = Subscription(wanted or EventFilter(), self._watcher_queue)
        self._subscribers.append(sub)
        self._wake.set()  # with replicas, the loop starts polling
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subscribers:
            self._subscribers.remove(sub)
        if not self._subscribers:
            self._fed = None

    async def list(
        self, wanted: EventFilter, *, since_seq: int = 0, limit: int = 0
    ) -> list[EventRecord]:
        """Stored events that match, oldest first: with since_seq 0 the newest `limit`, after
        since_seq the oldest `limit` after it (to page forward)."""
        if since_seq < 0:
            raise InvalidInput(f"since_seq: {since_seq} is negative")
        return await self._store.list_events(
            bundle=wanted.bundle,
            cluster=wanted.cluster,
            kind=wanted.kind,
            since_seq=since_seq,
            limit=check_limit(limit),
        )

    async def recorded_offline(self) -> set[str]:
        """The clusters (by name) whose last stored ClusterOffline or ClusterOnline is an
        Offline: a hub starting without them has nothing new to record (two reads, at load)."""
        last: dict[str, EventRecord] = {}
        for kind in (EventKind.CLUSTER_OFFLINE, EventKind.CLUSTER_ONLINE):
            for event in await self._store.list_events(kind=kind, limit=MAX_LIST):
                if event.cluster not in last or event.seq > last[event.cluster].seq:
                    last[event.cluster] = event
        return {name for name, e in last.items() if e.kind == EventKind.CLUSTER_OFFLINE}

    async def watch(
        self, wanted: EventFilter, *, since_seq: int = 0, limit: int = 0
    ) -> AsyncGenerator[EventRecord, None]:
        """First the stored backlog (as `list`: from since_seq 0 the newest `limit`, after
        since_seq every stored event after it, read `limit` at a time), then events as they
        are written; raises WatcherDropped if the consumer falls too far behind."""
        # Subscribed before the backlog is read: what is written meanwhile is queued, and
        # whatever of it the backlog already held is skipped by its number.
        sub = self.subscribe(wanted)
        try:
            base = None
            if self.shared:
                latest = await self._store.list_events(limit=1)
                base = latest[-1].seq if latest else 0
            backlog = await self.list(wanted, since_seq=since_seq, limit=limit)
            sub.last_seq = backlog[-1].seq if backlog else since_seq
            if base is not None:
                # Polled from no later than where this backlog was read: nothing falls between.
                self._fed = base if self._fed is None else min(self._fed, base)
            for event in backlog:
                yield event
            # A resume (since_seq) pages forward through everything after it, `limit` at a
            # time, until a page comes back short: caught up. What was written meanwhile is
            # also queued live, and skipped there by its number.
            page = check_limit(limit)
            while since_seq > 0 and len(backlog) == page:
                backlog = await self.list(wanted, since_seq=sub.last_seq, limit=page)
                if backlog:
                    sub.last_seq = backlog[-1].seq
                for event in backlog:
                    yield event
            async for event in sub:
                yield event
        finally:
            self.unsubscribe(sub)
