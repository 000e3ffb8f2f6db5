"""The write-behind: deployment rows and last-seen times reach the store in batches, a large
batch in slices."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

from hub.core.deployments import Deployment, Deployments
from hub.core.writebehind import WriteBehind
from hub.models import DeploymentRecord
from tests.hub.fakes import MemoryStore


async def test_changes_are_batched_and_deletions_written() -> None:
    store, deployments = MemoryStore(), Deployments()
    writer = WriteBehind(store, deployments)
    dep = deployments.add(Deployment("web", "c1", "r1", released="r1"))
    deployments.changed(dep)
    deployments.on_ack("c1", bundle="web", revision="r1", error="")
    writer.seen("c1")
    assert store.deployments == {}
    await writer.flush()
    assert store.deployments[("web", "c1")].acked == "r1"
    assert set(store.touched) == {"c1"}

    deployments.remove("c1", "web")
    writer.deleted("web", "c1")
    await writer.flush()
    assert store.deployments == {}


async def test_a_replica_writes_only_the_rows_of_spokes_it_serves_or_just_served() -> None:
    store, deployments = MemoryStore(), Deployments()
    here: set[str] = {"c1"}
    writer = WriteBehind(
        store, deployments, writes_rows=lambda c, detached: c in here or c in detached
    )
    for cluster_id in ("c1", "c2", "c3"):
        deployments.changed(deployments.add(Deployment("web", cluster_id, "r1", released="r1")))
    writer.detached("c3")
    await writer.flush()
    assert sorted(c for _, c in store.deployments) == ["c1", "c3"]


async def test_a_deleted_cluster_has_nothing_left_to_write() -> None:
    store, deployments = MemoryStore(), Deployments()
    writer = WriteBehind(store, deployments)
    deployments.changed(deployments.add(Deployment("web", "c1", "r1")))
    writer.forget_cluster("c1", deployments.drop_cluster("c1"))
    await writer.flush()
    assert store.deployments == {}


class _SlicedStore(MemoryStore):
    """Records each transaction's size and, like the real stores, gives the loop a turn."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []
        self.touch_batches: list[int] = []

    async def save_deployments(
        self, upserts: Sequence[DeploymentRecord], deletes: Sequence[tuple[str, str]]
    ) -> None:
        self.batches.append(len(upserts))
        await asyncio.sleep(0)
        await super().save_deployments(upserts, deletes)

    async def touch_clusters(self, last_seen: Mapping[str, int]) -> None:
        self.touch_batches.append(len(last_seen))
        await asyncio.sleep(0)
        await super().touch_clusters(last_seen)


async def test_a_storm_of_changes_is_written_in_slices_and_the_loop_runs_between() -> None:
    # A reconnect storm marks the whole fleet at once: one transaction of every row would hold
    # the event loop (and `argosy status`) for the whole batch.
    store, deployments = _SlicedStore(), Deployments()
    writer = WriteBehind(store, deployments)
    for i in range(1200):
        deployments.changed(deployments.add(Deployment("web", f"c{i}", "r1", released="r1")))
        writer.seen(f"c{i}")
    turns = 0

    async def other_work() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    probe = asyncio.create_task(other_work(), name="probe")
    await asyncio.sleep(0)
    turns = 0
    await writer.flush(rows_per_slice=500)
    probe.cancel()
    assert sorted(store.batches, reverse=True) == [500, 500, 200]
    assert store.touch_batches == [500, 500, 200]
    assert len(store.deployments) == 1200 and len(store.touched) == 1200
    assert turns >= 5


async def test_a_row_changed_while_a_slice_is_written_goes_in_the_next_flush() -> None:
    store, deployments = _SlicedStore(), Deployments()
    writer = WriteBehind(store, deployments)
    deps = [deployments.add(Deployment("web", f"c{i}", "r1", released="r1")) for i in range(3)]
    for dep in deps:
        deployments.changed(dep)
    flushing = asyncio.create_task(writer.flush(rows_per_slice=1), name="flush")
    await asyncio.sleep(0)  # the first slice is being written
    deployments.on_ack("c0", bundle="web", revision="r1", error="")
    await flushing
    await writer.flush()
    assert store.deployments[("web", "c0")].acked == "r1"


class _StuckOnSecondSlice(MemoryStore):
    """A store whose second write of deployment rows never ends until cancelled."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.stuck = asyncio.Event()

    async def save_deployments(self, upserts: Any, deletes: Any) -> None:
        self.calls += 1
        if self.calls == 2:
            self.stuck.set()
            await asyncio.Event().wait()
        await super().save_deployments(upserts, deletes)


async def test_a_flush_cancelled_between_slices_leaves_the_rest_for_the_next_one() -> None:
    # The hub cancels its writer loop at shutdown, then flushes once more: rows of slices not
    # yet written, and every last-seen time, must still reach the store.
    store, deployments = _StuckOnSecondSlice(), Deployments()
    writer = WriteBehind(store, deployments)
    for i in range(1200):
        deployments.changed(deployments.add(Deployment("web", f"c{i}", "r1", released="r1")))
        writer.seen(f"c{i}")
    flushing = asyncio.create_task(writer.flush(rows_per_slice=500), name="flush")
    await store.stuck.wait()
    flushing.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await flushing
    await writer.flush(rows_per_slice=500)
    assert len(store.deployments) == 1200 and len(store.touched) == 1200
