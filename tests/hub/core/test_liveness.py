"""Liveness: the one session per cluster, streams elsewhere, Offline and back."""

from __future__ import annotations

import asyncio

from argosy.states import State
from hub.core.deployments import Deployment, Deployments
from hub.core.inventory import Inventory
from hub.core.liveness import Liveness
from hub.models import ClusterRecord
from tests.harness import eventually
from tests.hub.fakes import FakeListener


class Shown:
    def __init__(self) -> None:
        self.connected: dict[str, bool] = {}
        self.offline: dict[str, bool] = {}

    def set_connected(self, cluster_id: str, connected: bool) -> None:
        self.connected[cluster_id] = connected

    def set_offline(self, cluster_id: str, offline: bool) -> None:
        self.offline[cluster_id] = offline


def rig() -> tuple[Liveness, Deployments, Shown]:
    inventory, deployments, shown = Inventory(), Deployments(), Shown()
    inventory.put_cluster(ClusterRecord("c1", "one", {}, "", 0))
    liveness = Liveness(inventory=inventory, deployments=deployments, presence=shown)
    return liveness, deployments, shown


def test_a_second_stream_replaces_the_first() -> None:
    liveness, _, shown = rig()
    first, second = FakeListener(), FakeListener()
    liveness.attach("c1", first)
    liveness.attach("c1", second)
    assert first.closed == "replaced by a newer stream from the same cluster"
    assert not liveness.detach("c1", first)  # the old stream ending changes nothing
    assert liveness.connected("c1") and shown.connected["c1"]
    assert "c1" in liveness.heard  # since the stream opened: the metrics' heartbeat age
    assert liveness.detach("c1", second)
    assert not liveness.connected("c1") and not shown.connected["c1"]
    assert "c1" in liveness.down_since
    assert "c1" not in liveness.heard  # a cluster not connected has no heartbeat age


def test_offline_marks_every_deployment_of_the_cluster_and_a_stream_clears_it() -> None:
    liveness, deployments, shown = rig()
    dep = deployments.add(Deployment("web", "c1", "r1", released="r1"))
    deployments.changed(dep)
    liveness.set_offline("c1", True)
    assert liveness.offline("c1") and shown.offline["c1"]
    assert dep.state == State.OFFLINE
    liveness.attach("c1", FakeListener())
    assert not liveness.offline("c1") and not shown.offline["c1"]
    assert deployments.state_of("web", "c1") == State.PENDING


def test_an_unknown_cluster_is_never_marked() -> None:
    liveness, _, shown = rig()
    liveness.set_offline("c9", True)
    liveness.remote_attached("b", ["c9"], attached=True)
    assert shown.offline == {} and shown.connected == {}
    assert not liveness.connected("c9")


async def test_offline_and_back_are_told_only_where_the_stream_ended_or_opened() -> None:
    inventory, deployments, shown = Inventory(), Deployments(), Shown()
    for cid in ("c1", "c2", "c3"):
        inventory.put_cluster(ClusterRecord(cid, cid, {}, "", 0))
    told: list[tuple[str, bool]] = []
    liveness = Liveness(
        inventory=inventory,
        deployments=deployments,
        presence=shown,
        grace=0.0,
        on_offline=lambda cluster_id, offline: told.append((cluster_id, offline)),
    )
    here = FakeListener()
    liveness.attach("c1", here)  # not offline before: nothing to tell
    liveness.detach("c1", here)  # ended here
    liveness.remote_attached("b", ["c2", "c3"], attached=True)
    liveness.remote_attached("b", ["c2"], attached=False)  # ended on live replica b
    liveness.remote_attached("b", ["c3"], attached=False, gone=True)  # b died
    task = asyncio.create_task(liveness.run(interval=0.01))
    try:
        await eventually(lambda: all(liveness.offline(c) for c in ("c1", "c2", "c3")))
        await eventually(lambda: not liveness.down_since)  # the sweep walks them no more
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert sorted(told) == [("c1", True), ("c3", True)]  # b records c2's itself
    told.clear()
    liveness.attach("c1", FakeListener())  # back, here
    liveness.remote_attached("b", ["c2"], attached=True)  # back, on b
    assert told == [("c1", False)]


async def test_clusters_away_at_start_are_recorded_by_the_first_live_replica_only() -> None:
    # No replica saw their streams end (the hub started without them; all replicas may have
    # restarted), so the one that comes first among the live replicas records them; one
    # that comes back on another replica within the grace is not Offline at all.
    inventory, shown = Inventory(), Shown()
    for cid in ("c1", "c2"):
        inventory.put_cluster(ClusterRecord(cid, cid, {}, "", 0))

    async def swept(first: bool) -> list[tuple[str, bool]]:
        told: list[tuple[str, bool]] = []
        liveness = Liveness(
            inventory=inventory,
            deployments=Deployments(),
            presence=shown,
            grace=0.0,
            on_offline=lambda cluster_id, offline: told.append((cluster_id, offline)),
        )
        liveness.first = lambda: first
        liveness.down_at_start("c1")
        liveness.down_at_start("c2")
        liveness.remote_attached("b", ["c2"], attached=True)  # b holds c2's stream
        task = asyncio.create_task(liveness.run(interval=0.01))
        try:
            await eventually(lambda: liveness.offline("c1"))
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        assert not liveness.offline("c2")
        liveness.attach("c1", FakeListener())
        return told

    assert await swept(first=True) == [("c1", True), ("c1", False)]
    # The first replica records the Offline; back is recorded where the stream opens.
    assert await swept(first=False) == [("c1", False)]
