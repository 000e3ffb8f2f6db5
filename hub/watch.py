"""WatchStatus fan-out: one broadcaster turns the status book's dirty marks into deltas.

Changes are coalesced over a short window, so a burst of reports from many spokes becomes one
message per watcher. Each watcher has a bounded queue; one that falls behind is given a fresh
snapshot instead of an ever-growing backlog.

A snapshot is sent in chunks of at most `snapshot_chunk` clusters (and bundles), so 10,000
clusters never travel in one message: the first chunk has `snapshot` set (start afresh) and
the groups, the next ones read as deltas (so an old client that ignores the flag still ends
with everything), and every chunk but the last has `snapshot_continues`. The queue holds
frames: a snapshot's chunks are one queue item, and each frame is serialised at most once
however many streams send it (WatchStatus's response serializer passes bytes through).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from argosy.api.v1 import fleet_pb2
from hub.status import BundleView, ClusterView, GroupView, StatusBook

log = logging.getLogger(__name__)


def bundle_pb(v: BundleView) -> fleet_pb2.BundleStatus:
    return fleet_pb2.BundleStatus(
        name=v.name,
        clusters_ready=v.clusters_ready,
        clusters_desired=v.clusters_desired,
        state=v.state,
        summary=v.summary,
        state_counts=[fleet_pb2.StateCount(state=s, count=n) for s, n in v.state_counts.items()],
    )


def cluster_pb(v: ClusterView) -> fleet_pb2.ClusterStatus:
    return fleet_pb2.ClusterStatus(
        name=v.name,
        labels=dict(v.labels),
        state=v.state,
        bundles_ready=v.bundles_ready,
        bundles_desired=v.bundles_desired,
        connected=v.connected,
        offline=v.offline,
    )


def group_pb(v: GroupView) -> fleet_pb2.GroupStatus:
    return fleet_pb2.GroupStatus(
        name=v.name,
        cluster_count=v.cluster_count,
        bundles_ready=v.bundles_ready,
        bundles_desired=v.bundles_desired,
        state=v.state,
    )


Enrich = Callable[[fleet_pb2.BundleStatus], None]


def _no_enrich(pb: fleet_pb2.BundleStatus) -> None:
    del pb


class ClusterPbs:
    """Every cluster's ClusterStatus, rebuilt only for the clusters the book touched since the
    last call (StatusBook.cluster_version). A snapshot of 10,000 clusters, which `argosy status`
    asks for, spent ~60 ms of the event loop converting views that had not changed; from this
    cache it takes ~11 ms, ~18 ms with 10 % of them changed (`python -m bench.snapshot`)."""

    def __init__(self) -> None:
        self._pbs: dict[str, tuple[int, fleet_pb2.ClusterStatus]] = {}

    def all(self, book: StatusBook) -> list[fleet_pb2.ClusterStatus]:
        pbs = self._pbs
        ids = book.cluster_ids()
        out: list[fleet_pb2.ClusterStatus] = []
        for c in ids:
            version = book.cluster_version(c)
            hit = pbs.get(c)
            if hit is None or hit[0] != version:
                cv = book.cluster_view(c)
                if cv is None:
                    continue
                hit = pbs[c] = (version, cluster_pb(cv))
            out.append(hit[1])
        if len(pbs) > len(out):  # removed clusters drop out
            known = set(ids)
            for c in [c for c in pbs if c not in known]:
                del pbs[c]
        return out


def snapshot(
    book: StatusBook, enrich: Enrich = _no_enrich, clusters: ClusterPbs | None = None
) -> fleet_pb2.WatchStatusResponse:
    """Everything the book shows; `clusters` caches the cluster messages between calls (the
    response holds copies, so callers may change it)."""
    cs, groups, bundles = _parts(book, enrich, clusters)
    return fleet_pb2.WatchStatusResponse(snapshot=True, clusters=cs, groups=groups, bundles=bundles)


def snapshot_chunks(
    book: StatusBook,
    enrich: Enrich = _no_enrich,
    clusters: ClusterPbs | None = None,
    *,
    size: int,
) -> list[fleet_pb2.WatchStatusResponse]:
    """The snapshot as messages of at most `size` clusters and `size` bundles, side by side;
    the groups (few) in the first. Only the first has `snapshot` set: a client that knows
    nothing of chunks reads the rest as deltas and still ends with every cluster. Made from
    the cached cluster messages directly (one copy each, as `snapshot` makes)."""
    cs, groups, bundles = _parts(book, enrich, clusters)
    n = max(1, -(-max(len(cs), len(bundles)) // size))
    out = []
    for i in range(n):
        part = slice(i * size, (i + 1) * size)
        out.append(
            fleet_pb2.WatchStatusResponse(
                snapshot=i == 0,
                snapshot_continues=i < n - 1,
                groups=groups if i == 0 else [],
                clusters=cs[part],
                bundles=bundles[part],
            )
        )
    return out


def _parts(
    book: StatusBook, enrich: Enrich, clusters: ClusterPbs | None
) -> tuple[
    list[fleet_pb2.ClusterStatus], list[fleet_pb2.GroupStatus], list[fleet_pb2.BundleStatus]
]:
    cs = (
        clusters.all(book)
        if clusters is not None
        else [cluster_pb(cv) for c in book.cluster_ids() if (cv := book.cluster_view(c))]
    )
    groups = [group_pb(gv) for g in book.group_names() if (gv := book.group_view(g))]
    bundles = [bundle_pb(bv) for b in book.bundle_names() if (bv := book.bundle_view(b))]
    for b in bundles:
        enrich(b)
    return cs, groups, bundles


def merged(msgs: Sequence[fleet_pb2.WatchStatusResponse]) -> fleet_pb2.WatchStatusResponse:
    """One message from a snapshot's chunks (or a lone delta): for watchers in the process
    (the dashboard), which have no message size to keep to."""
    if len(msgs) == 1:
        return msgs[0]
    out = fleet_pb2.WatchStatusResponse()
    for m in msgs:
        out.MergeFrom(m)
    out.snapshot = msgs[0].snapshot
    out.snapshot_continues = False
    return out


class Frame:
    """One message for watchers, serialised at most once however many streams send it."""

    __slots__ = ("_wire", "msg")

    def __init__(self, msg: fleet_pb2.WatchStatusResponse) -> None:
        self.msg = msg
        self._wire: bytes | None = None

    def wire(self) -> bytes:
        if self._wire is None:
            self._wire = self.msg.SerializeToString()
        return self._wire


# A queue item: one delta, or every chunk of one snapshot (they go into a queue together).
Frames = tuple[Frame, ...]


@dataclass(frozen=True)
class WatchFilter:
    """Narrows a watch to one bundle, cluster or group; empty fields let everything through."""

    bundle: str = ""
    cluster: str = ""
    group: str = ""

    def is_empty(self) -> bool:
        return not (self.bundle or self.cluster or self.group)

    def apply(self, msg: fleet_pb2.WatchStatusResponse) -> fleet_pb2.WatchStatusResponse:
        if self.is_empty():
            return msg
        return fleet_pb2.WatchStatusResponse(
            snapshot=msg.snapshot,
            bundles=[b for b in msg.bundles if b.name == self.bundle],
            clusters=[c for c in msg.clusters if c.name == self.cluster],
            groups=[g for g in msg.groups if g.name == self.group],
            removed_bundles=[n for n in msg.removed_bundles if n == self.bundle],
            removed_clusters=[n for n in msg.removed_clusters if n == self.cluster],
            removed_groups=[n for n in msg.removed_groups if n == self.group],
        )


class Watcher:
    def __init__(self, *, maxsize: int, where: WatchFilter) -> None:
        self.queue: asyncio.Queue[Frames] = asyncio.Queue(maxsize)
        self.needs_snapshot = True
        self.where = where

    async def get(self) -> fleet_pb2.WatchStatusResponse:
        """The next change as one message (a snapshot's chunks merged), for watchers in the
        process; streams send the frames themselves."""
        return merged([f.msg for f in await self.queue.get()])


class StatusBroadcaster:
    def __init__(
        self,
        book: StatusBook,
        *,
        enrich: Enrich = _no_enrich,
        window: float = 0.05,
        queue_size: int = 64,
        snapshot_chunk: int = 500,
    ) -> None:
        self._book = book
        self._enrich = enrich
        self._window = window
        self._queue_size = queue_size
        self._snapshot_chunk = snapshot_chunk
        self._watchers: set[Watcher] = set()
        self._wake = asyncio.Event()
        # Shared with GetStatus (hub/fleet_service.py): one cache of cluster messages.
        self.cluster_pbs = ClusterPbs()

    def subscribe(self, where: WatchFilter | None = None) -> Watcher:
        watcher = Watcher(maxsize=self._queue_size, where=where or WatchFilter())
        self._watchers.add(watcher)
        self._wake.set()
        return watcher

    def unsubscribe(self, watcher: Watcher) -> None:
        self._watchers.discard(watcher)

    async def run(self) -> None:
        while True:
            changed = asyncio.create_task(self._book.changed.wait(), name="status-changed")
            woken = asyncio.create_task(self._wake.wait(), name="status-subscribed")
            try:
                await asyncio.wait({changed, woken}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                changed.cancel()
                woken.cancel()
            self._wake.clear()
            await asyncio.sleep(self._window)
            self._publish()

    def _publish(self) -> None:
        bundles, clusters, groups, gone_b, gone_c, gone_g = self._book.take_dirty()
        if not self._watchers:
            return
        delta = fleet_pb2.WatchStatusResponse(
            bundles=[bundle_pb(bv) for b in sorted(bundles) if (bv := self._book.bundle_view(b))],
            clusters=[
                cluster_pb(cv) for c in sorted(clusters) if (cv := self._book.cluster_view(c))
            ],
            groups=[group_pb(gv) for g in sorted(groups) if (gv := self._book.group_view(g))],
            removed_bundles=sorted(gone_b),
            removed_clusters=sorted(gone_c),
            removed_groups=sorted(gone_g),
        )
        for b in delta.bundles:
            self._enrich(b)
        # Made once for every watcher that shares them (unfiltered ones: the CLI's overview,
        # the dashboard), and serialised once by the first stream that sends them.
        shared_delta = (Frame(delta),)
        chunks: Frames | None = None
        for watcher in list(self._watchers):
            frames: Frames
            if watcher.needs_snapshot:
                if chunks is None:
                    chunks = tuple(
                        Frame(m)
                        for m in snapshot_chunks(
                            self._book, self._enrich, self.cluster_pbs, size=self._snapshot_chunk
                        )
                    )
                if watcher.where.is_empty():
                    frames = chunks
                else:
                    # One bundle, cluster or group: one message is small.
                    frames = (Frame(merged([watcher.where.apply(f.msg) for f in chunks])),)
            elif watcher.where.is_empty():
                if delta.ByteSize() == 0:
                    continue
                frames = shared_delta
            else:
                msg = watcher.where.apply(delta)
                if msg.ByteSize() == 0:
                    continue
                frames = (Frame(msg),)
            try:
                watcher.queue.put_nowait(frames)
                watcher.needs_snapshot = False
            except asyncio.QueueFull:
                # Too slow to keep up: drop its backlog; it gets a snapshot when it drains.
                while not watcher.queue.empty():
                    watcher.queue.get_nowait()
                watcher.needs_snapshot = True
                self._wake.set()
