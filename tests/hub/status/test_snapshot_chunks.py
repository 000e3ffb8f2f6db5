"""WatchStatus's snapshot in chunks (hub/watch.py): no message holds more than a chunk of
clusters, the chunks make one snapshot, a client that ignores the flag still gets every
cluster, and every watcher that starts at once shares the same serialised frames."""

from __future__ import annotations

import asyncio
import contextlib

from argosy.api.v1 import fleet_pb2
from hub.status import ClusterInfo, StatusBook
from hub.watch import StatusBroadcaster, WatchFilter, merged, snapshot, snapshot_chunks

NAMES = [f"c{i:04d}" for i in range(1200)]


def book_of(names: list[str]) -> StatusBook:
    book = StatusBook()
    for n in names:
        book.put_cluster(f"id-{n}", ClusterInfo(n, {}))
    book.add_bundle("web")
    return book


def test_1200_clusters_come_in_three_chunks_that_make_one_snapshot() -> None:
    book = book_of(NAMES)
    full = snapshot(book)
    chunks = snapshot_chunks(book, size=500)
    assert [len(c.clusters) for c in chunks] == [500, 500, 200]
    assert [(c.snapshot, c.snapshot_continues) for c in chunks] == [
        (True, True),
        (False, True),
        (False, False),
    ]
    assert [len(c.groups) for c in chunks] == [len(full.groups), 0, 0]
    assert [len(c.bundles) for c in chunks] == [1, 0, 0]
    assert merged(chunks) == full
    # A client that knows nothing of chunks: the first starts afresh, the rest add to it.
    old: dict[str, fleet_pb2.ClusterStatus] = {}
    for c in chunks:
        if c.snapshot:
            old.clear()
        old.update({x.name: x for x in c.clusters})
    assert sorted(old) == NAMES


def test_an_empty_fleet_is_one_chunk() -> None:
    (only,) = snapshot_chunks(StatusBook(), size=500)
    assert only.snapshot and not only.snapshot_continues


async def test_watchers_starting_together_share_frames_serialised_once() -> None:
    book = book_of(NAMES)
    broadcaster = StatusBroadcaster(book, window=0.0)
    a, b = broadcaster.subscribe(), broadcaster.subscribe()
    one = broadcaster.subscribe(WatchFilter(cluster="c0700"))
    loop = asyncio.create_task(broadcaster.run(), name="test-broadcaster")
    try:
        frames_a = await asyncio.wait_for(a.queue.get(), 5)
        frames_b = await asyncio.wait_for(b.queue.get(), 5)
        assert frames_a is frames_b  # the same frames, not copies
        assert [len(f.msg.clusters) for f in frames_a] == [500, 500, 200]
        assert frames_a[0].wire() is frames_b[0].wire()  # serialised once
        assert all(fleet_pb2.WatchStatusResponse.FromString(f.wire()) == f.msg for f in frames_a)
        # A watcher of one cluster gets one small message.
        (filtered,) = await asyncio.wait_for(one.queue.get(), 5)
        assert filtered.msg.snapshot and not filtered.msg.snapshot_continues
        assert [c.name for c in filtered.msg.clusters] == ["c0700"]
        # Deltas after it are shared as well.
        book.set_connected("id-c0001", True)
        delta_a = await asyncio.wait_for(a.queue.get(), 5)
        assert delta_a is await asyncio.wait_for(b.queue.get(), 5)
        assert [c.name for c in delta_a[0].msg.clusters] == ["c0001"]
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop


async def test_a_snapshot_is_one_queue_item_and_watchers_in_the_process_get_it_whole() -> None:
    # A queue of one: the three chunks still fit, and a slow watcher starts afresh as before.
    broadcaster = StatusBroadcaster(book_of(NAMES), window=0.0, queue_size=1)
    w = broadcaster.subscribe()
    loop = asyncio.create_task(broadcaster.run(), name="test-broadcaster")
    try:
        whole = await asyncio.wait_for(w.get(), 5)
        assert whole.snapshot and not whole.snapshot_continues
        assert [c.name for c in whole.clusters] == NAMES
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
