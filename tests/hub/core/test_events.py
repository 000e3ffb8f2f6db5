"""The event log: coalescing, the write-behind ring, numbering, watchers and their bounds."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from argosy.errors import InvalidInput
from argosy.states import State
from hub.core.events import (
    EventFilter,
    EventKind,
    EventLog,
    Transition,
    WatcherDropped,
    check_limit,
    requeue,
    transition_events,
)
from hub.models import EventRecord
from hub.persistence.protocol import STATE_CHANGES
from tests.hub.fakes import MemoryStore


def names(cluster_id: str) -> str:
    return {"c1": "one", "c2": "two"}.get(cluster_id, cluster_id)


def log_of(store: MemoryStore | None = None, **kw: int) -> tuple[EventLog, MemoryStore]:
    store = store or MemoryStore()
    events = EventLog(
        store, cluster_name=names, revision_of=lambda bundle, cluster_id: f"{bundle}-rev", **kw
    )
    return events, store


def test_transitions_become_one_event_each_and_flaps_none() -> None:
    moved = Transition(None, State.WAIT_APPLIED, 1.0, "one")
    moved.last, moved.changes = State.READY, 3
    flapped = Transition(State.READY, State.NOT_READY, 2.0, "two")
    flapped.last, flapped.changes = State.READY, 2
    removed = Transition(State.READY, None, 3.0, "two")
    events = transition_events(
        [("web", "c1", moved), ("web", "c2", flapped), ("db", "c2", removed)],
        revision_of=lambda bundle, cluster_id: "r1",
    )
    assert [(e.bundle, e.cluster, e.revision, e.message) for e in events] == [
        ("web", "one", "r1", "new -> Ready (3 changes)"),
        ("db", "two", "", "Ready -> removed"),
    ]
    assert {e.kind for e in events} == {EventKind.DEPLOYMENT_STATE_CHANGED}


def test_requeue_keeps_the_failed_batch_first_and_drops_the_oldest() -> None:
    def ev(i: int) -> EventRecord:
        return EventRecord(time=i, kind="BundleApplied", revision=str(i))

    ring = requeue([ev(1), ev(2)], [ev(3)], 10)
    assert [e.revision for e in ring] == ["1", "2", "3"]
    ring = requeue([ev(1), ev(2)], [ev(3), ev(4)], 3)
    assert [e.revision for e in ring] == ["2", "3", "4"]


def test_filters_and_limits_are_checked() -> None:
    with pytest.raises(InvalidInput, match="kind: 'Bogus' is not an event kind"):
        EventFilter(kind="Bogus")
    assert EventFilter(bundle="web").matches(EventRecord(1, "BundleApplied", bundle="web"))
    assert not EventFilter(cluster="one").matches(EventRecord(1, "BundleApplied", cluster="two"))
    assert check_limit(0) == 100 and check_limit(5) == 5
    with pytest.raises(InvalidInput, match="limit: -1"):
        check_limit(-1)
    with pytest.raises(ValueError, match="--event-retention"):
        EventLog(MemoryStore(), retention=0)


async def test_a_batch_is_one_store_write_in_time_order_with_state_changes_coalesced() -> None:
    events, store = log_of()
    writes: list[int] = []
    append = store.append_events

    async def counting(batch: Sequence[EventRecord], *, keep: int) -> list[EventRecord]:
        writes.append(len(batch))
        return await append(batch, keep=keep)

    store.append_events = counting  # type: ignore[method-assign,assignment]
    events.record(EventKind.BUNDLE_APPLIED, bundle="web", revision="r1", actor="token/a-1")
    for old, new in [(None, State.WAIT_APPLIED), (State.WAIT_APPLIED, State.NOT_READY)]:
        events.deployment_changed("web", "c1", old, new)
    events.deployment_changed("web", "c1", State.NOT_READY, State.READY)
    events.deployment_changed("web", "c2", State.READY, State.NOT_READY)
    events.deployment_changed("web", "c2", State.NOT_READY, State.READY)  # a flap: nothing
    await events.flush()
    assert writes == [2]
    assert [(e.seq, e.kind, e.cluster, e.revision, e.message) for e in store.events] == [
        (1, "BundleApplied", "", "r1", ""),
        (2, "DeploymentStateChanged", "one", "web-rev", "new -> Ready (3 changes)"),
    ]
    await events.flush()  # nothing new: no write
    assert writes == [2]


async def test_the_store_keeps_the_newest_retention_events() -> None:
    events, _ = log_of(retention=3)
    for i in range(5):
        events.record(EventKind.CLUSTER_OFFLINE, cluster=f"c{i}")
    await events.flush()
    assert [e.cluster for e in await events.list(EventFilter())] == ["c2", "c3", "c4"]


async def test_a_failed_write_keeps_the_batch_for_the_next() -> None:
    events, store = log_of()
    append = store.append_events
    failing = True

    async def flaky(batch: Sequence[EventRecord], *, keep: int) -> list[EventRecord]:
        if failing:
            raise OSError("disk full")
        return await append(batch, keep=keep)

    store.append_events = flaky  # type: ignore[method-assign,assignment]
    events.record(EventKind.CLUSTER_REVOKED, cluster="one")
    with pytest.raises(OSError):
        await events.flush()
    events.record(EventKind.CLUSTER_DELETED, cluster="one")
    failing = False
    await events.flush()
    assert [e.kind for e in store.events] == ["ClusterRevoked", "ClusterDeleted"]


async def test_watch_joins_backlog_and_live_without_gap_or_repeat() -> None:
    events, _ = log_of()
    for bundle in ("a", "b", "a"):
        events.record(EventKind.BUNDLE_APPLIED, bundle=bundle)
    await events.flush()
    seen: list[tuple[int, str]] = []
    backlog, done = asyncio.Event(), asyncio.Event()

    async def watch() -> None:
        async for e in events.watch(EventFilter(bundle="a")):
            seen.append((e.seq, e.bundle))
            backlog.set()  # subscribed, and the backlog read, before the first is yielded
            if len(seen) == 3:
                done.set()
                return

    task = asyncio.create_task(watch())
    await asyncio.wait_for(backlog.wait(), 5)
    events.record(EventKind.BUNDLE_DELETED, bundle="b")
    events.record(EventKind.BUNDLE_DELETED, bundle="a")
    await events.flush()
    await asyncio.wait_for(done.wait(), 5)
    await task
    assert seen == [(1, "a"), (3, "a"), (5, "a")]
    assert not events._subscribers  # a watch that ends unsubscribes


async def test_a_slow_watcher_is_dropped_and_told_where_to_resume() -> None:
    events, _ = log_of(watcher_queue=2)
    slow = events.subscribe()
    fast = events.subscribe(EventFilter(kind="ClusterOffline"))
    for i in range(3):
        events.record(EventKind.BUNDLE_APPLIED, bundle=f"b{i}")
    await events.flush()
    assert [(await anext(slow)).seq, (await anext(slow)).seq] == [1, 2]
    with pytest.raises(WatcherDropped, match=r"fell 2 events behind .*since_seq=2"):
        await anext(slow)
    assert events._subscribers == [fast]  # the other watcher is not affected


async def test_replicas_watchers_see_each_others_events_from_the_store() -> None:
    store = MemoryStore()
    a, _ = log_of(store)
    b, _ = log_of(store)
    a.shared = b.shared = True
    a.record(EventKind.CLUSTER_REGISTERED, cluster="one")
    await a.flush()
    watch = b.watch(EventFilter())
    assert (await anext(watch)).cluster == "one"  # the backlog, from the store
    a.record(EventKind.CLUSTER_OFFLINE, cluster="one")
    b.record(EventKind.CLUSTER_REVOKED, cluster="two")
    await a.flush()
    await b.flush()  # writes its own, then reads everything new
    live = [await asyncio.wait_for(anext(watch), 5) for _ in range(2)]
    assert [(e.seq, e.kind) for e in live] == [(2, "ClusterOffline"), (3, "ClusterRevoked")]
    await watch.aclose()
    assert not b._subscribers and b._fed is None


async def test_pending_takes_what_is_queued_without_waiting() -> None:
    events, _ = log_of()
    sub = events.subscribe()
    assert sub.pending() == []  # nothing queued: it returns at once
    for i in range(3):
        events.record(EventKind.BUNDLE_APPLIED, bundle=f"b{i}")
    await events.flush()
    first = await anext(sub)
    assert [e.seq for e in [first, *sub.pending()]] == [1, 2, 3]
    assert sub.last_seq == 3 and sub.pending() == []


def test_the_stores_trim_state_changes_by_their_kind() -> None:
    assert STATE_CHANGES == EventKind.DEPLOYMENT_STATE_CHANGED


async def test_a_resumed_watch_pages_through_the_whole_backlog_then_goes_live() -> None:
    # A dropped watcher is told to resume from its seq: nothing after it may be skipped,
    # however far behind it is (the default limit is 100).
    events, _ = log_of()
    for i in range(500):
        events.record(EventKind.BUNDLE_APPLIED, bundle=f"b{i}")
    await events.flush()
    watch = events.watch(EventFilter(), since_seq=100)
    seen = [(await anext(watch)).seq for _ in range(400)]
    assert seen == list(range(101, 501))
    events.record(EventKind.BUNDLE_DELETED, bundle="b0")
    await events.flush()
    assert (await asyncio.wait_for(anext(watch), 5)).seq == 501
    await watch.aclose()
    # From the start it is still the newest `limit`.
    assert [e.seq for e in await events.list(EventFilter())] == list(range(402, 502))


async def test_a_write_cancelled_at_shutdown_is_not_written_twice() -> None:
    # SQLite's thread commits a batch even when the flush awaiting it is cancelled; the
    # final flush must not write that batch again (with new numbers).
    events, store = log_of()
    append = store.append_events
    started, commit = asyncio.Event(), asyncio.Event()
    threads: list[asyncio.Task[list[EventRecord]]] = []

    async def committed(batch: Sequence[EventRecord], keep: int) -> list[EventRecord]:
        await commit.wait()
        return await append(batch, keep=keep)

    async def on_a_thread(batch: Sequence[EventRecord], *, keep: int) -> list[EventRecord]:
        # As SQLite's executor thread: cancelling the caller does not stop the commit.
        threads.append(asyncio.create_task(committed(batch, keep)))
        started.set()
        return await asyncio.shield(threads[-1])

    store.append_events = on_a_thread  # type: ignore[method-assign,assignment]
    events.record(EventKind.BUNDLE_APPLIED, bundle="web")
    loop = asyncio.create_task(events.run(interval=0))
    await asyncio.wait_for(started.wait(), 5)
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop
    commit.set()
    await threads[0]
    events.record(EventKind.BUNDLE_DELETED, bundle="web")
    await events.flush()
    assert [(e.seq, e.kind) for e in store.events] == [(1, "BundleApplied"), (2, "BundleDeleted")]


async def test_clusters_whose_last_recorded_word_is_offline_are_known_at_load() -> None:
    events, _ = log_of()
    for kind, cluster in [
        (EventKind.CLUSTER_OFFLINE, "one"),
        (EventKind.CLUSTER_OFFLINE, "two"),
        (EventKind.CLUSTER_ONLINE, "one"),  # back since
        (EventKind.CLUSTER_ONLINE, "three"),
        (EventKind.CLUSTER_REVOKED, "two"),
    ]:
        events.record(kind, cluster=cluster)
    await events.flush()
    assert await events.recorded_offline() == {"two"}
