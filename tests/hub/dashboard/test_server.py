"""The dashboard's fan-out: one event per change for every browser, and a browser that falls
behind is dropped instead of buffering without bound."""

from __future__ import annotations

import asyncio
import contextlib
import json

from argosy.api.v1 import fleet_pb2
from hub.core.events import EventKind, EventLog
from hub.dashboard.model import Model
from hub.dashboard.server import CLIENT_QUEUE, Dashboard
from hub.models import BundleRecord, ClusterRecord, HistoryEntry
from hub.status import ClusterInfo, StatusBook
from hub.watch import StatusBroadcaster
from tests.harness import eventually
from tests.hub.fakes import MemoryStore


class NoFleet:
    """The fan-out reads nothing from the fleet but its event log."""

    def __init__(self, watcher_queue: int = 1000) -> None:
        self.events = EventLog(MemoryStore(), watcher_queue=watcher_queue)

    def bundle(self, name: str) -> BundleRecord:
        raise AssertionError("not used")

    def clusters(self) -> list[ClusterRecord]:
        return []

    def cluster_by_name(self, name: str) -> ClusterRecord | None:
        return None

    def deployment(self, cluster_id: str, bundle: str) -> None:
        return None

    def offline(self, cluster_id: str) -> bool:
        return False

    def last_seen(self, cluster_id: str) -> int:
        return 0

    async def set_paused(self, name: str, paused: bool) -> None:
        raise AssertionError("not used")

    async def resume_rollout(self, name: str, *, actor: str = "") -> None:
        raise AssertionError("not used")

    def pinned(self, name: str) -> int:
        raise AssertionError("not used")

    async def history(self, name: str) -> tuple[list[HistoryEntry], int]:
        raise AssertionError("not used")

    async def rollback(self, name: str, *, to: int = 0, actor: str = "") -> tuple[object, int, int]:
        raise AssertionError("not used")

    async def unpin(self, name: str) -> bool:
        raise AssertionError("not used")


def _data(event: bytes | None) -> dict[str, object]:
    assert event is not None
    body = json.loads(event.decode().split("\n")[1].removeprefix("data: "))
    assert isinstance(body, dict)
    return body


async def test_a_browser_that_falls_behind_is_dropped_and_others_keep_going() -> None:
    book = StatusBook()
    book.put_cluster("id-a", ClusterInfo("a", {}))
    broadcaster = StatusBroadcaster(book, window=0.0)
    dashboard = Dashboard(
        listen="127.0.0.1:0",
        fleet=NoFleet(),
        book=book,
        broadcaster=broadcaster,
        role_of=None,
        ssl_context=None,
    )
    async with asyncio.TaskGroup() as tg:
        loops = [
            tg.create_task(broadcaster.run(), name="test-broadcaster"),
            tg.create_task(dashboard.run(), name="test-dashboard"),
        ]
        try:
            await asyncio.wait_for(dashboard.ready.wait(), 10)
            fast, slow = dashboard.subscribe(), dashboard.subscribe()
            for i in range(CLIENT_QUEUE + 3):
                book.add_bundle(f"b{i}")
                event = _data(await asyncio.wait_for(fast.get(), 5))
                assert [b["name"] for b in event["bundles"]] == [f"b{i}"]  # type: ignore[attr-defined]
            assert dashboard.dropped == 1
            assert slow.qsize() == 1 and slow.get_nowait() is None  # told to end its stream
            book.add_bundle("after")
            assert _data(await asyncio.wait_for(fast.get(), 5))["bundles"]
        finally:
            for task in loops:
                task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.gather(*loops)


async def test_the_event_log_reaches_every_browser_once_per_batch() -> None:
    book = StatusBook()
    broadcaster = StatusBroadcaster(book, window=0.0)
    fleet = NoFleet(watcher_queue=3)
    dashboard = Dashboard(
        listen="127.0.0.1:0",
        fleet=fleet,
        book=book,
        broadcaster=broadcaster,
        role_of=None,
        ssl_context=None,
    )
    async with asyncio.TaskGroup() as tg:
        loops = [
            tg.create_task(broadcaster.run(), name="test-broadcaster"),
            tg.create_task(dashboard.run(), name="test-dashboard"),
        ]
        try:
            await asyncio.wait_for(dashboard.ready.wait(), 10)
            browsers = [dashboard.subscribe(), dashboard.subscribe()]

            async def next_events(queue: asyncio.Queue[bytes | None]) -> bytes:
                while True:
                    item = await asyncio.wait_for(queue.get(), 5)
                    assert item is not None
                    if item.startswith(b"event: events\n"):
                        return item

            # Subscribed once, for every browser (the status feed is the broadcaster's).
            await eventually(
                lambda: len(fleet.events._subscribers) == 1, what="the dashboard subscribed"
            )
            # A batch bigger than the log lets a watcher fall behind: the dashboard is
            # dropped, tells the pages to fetch afresh, and subscribes again.
            for i in range(5):
                fleet.events.record(EventKind.CLUSTER_OFFLINE, cluster=f"c{i}")
            await fleet.events.flush()
            cut = _data(await next_events(browsers[0]))
            assert [e["cluster"] for e in cut["events"]] == ["c0", "c1", "c2"]  # type: ignore[attr-defined]
            assert _data(await next_events(browsers[0])).get("reset") is True
            await next_events(browsers[1])
            await next_events(browsers[1])
            await eventually(
                lambda: len(fleet.events._subscribers) == 1, what="the dashboard subscribed again"
            )
            for i in range(3):
                fleet.events.record(EventKind.BUNDLE_APPLIED, bundle=f"b{i}", actor="token/x")
            await fleet.events.flush()
            first, second = [await next_events(q) for q in browsers]
            assert first is second  # serialised once
            data = _data(first)
            assert [e["bundle"] for e in data["events"]] == ["b0", "b1", "b2"]  # type: ignore[attr-defined]
            assert data["events"][0]["actor"] == "token/x"  # type: ignore[index]
        finally:
            for task in loops:
                task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.gather(*loops)
    assert not fleet.events._subscribers  # stopped, it unsubscribed


def test_the_model_applies_snapshots_deltas_and_removals() -> None:
    model = Model()
    first = model.apply(
        fleet_pb2.WatchStatusResponse(
            snapshot=True,
            bundles=[fleet_pb2.BundleStatus(name="web", state="Ready")],
            clusters=[
                fleet_pb2.ClusterStatus(name=n, state="Ready", connected=True) for n in "abc"
            ],
        )
    )
    assert [c["name"] for c in model.cluster_list()] == ["a", "b", "c"]
    assert _data(first)["snapshot"] and _data(first)["clusters"] == []  # the page refetches
    event = _data(
        model.apply(
            fleet_pb2.WatchStatusResponse(
                clusters=[fleet_pb2.ClusterStatus(name="c", state="Modified")],
                removed_clusters=["a"],
            )
        )
    )
    assert event["clusters"] == ["c"] and event["removed_clusters"] == ["a"]
    assert [c["name"] for c in model.cluster_list()] == ["c", "b"]  # worst first
    assert model.health()["cluster_states"] == {"Modified": 1, "Ready": 1}
    model.apply(fleet_pb2.WatchStatusResponse(snapshot=True))
    assert model.cluster_list() == [] and model.bundle_list() == []


async def test_a_snapshot_in_chunks_reaches_browsers_as_one() -> None:
    book = StatusBook()
    for i in range(5):
        book.put_cluster(f"id-{i}", ClusterInfo(f"c{i}", {}))
    broadcaster = StatusBroadcaster(book, window=0.0, snapshot_chunk=2)
    dashboard = Dashboard(
        listen="127.0.0.1:0",
        fleet=NoFleet(),
        book=book,
        broadcaster=broadcaster,
        role_of=None,
        ssl_context=None,
    )
    browser = dashboard.subscribe()
    async with asyncio.TaskGroup() as tg:
        loops = [
            tg.create_task(broadcaster.run(), name="test-broadcaster"),
            tg.create_task(dashboard.run(), name="test-dashboard"),
        ]
        try:
            first = _data(await asyncio.wait_for(browser.get(), 5))
            # Three chunks, one snapshot: the banner counts every cluster at once.
            assert first["snapshot"] is True
            assert first["health"]["clusters"] == 5  # type: ignore[index]
            assert sorted(dashboard.model.clusters) == [f"c{i}" for i in range(5)]
        finally:
            for task in loops:
                task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.gather(*loops)
