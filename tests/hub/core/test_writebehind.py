"""The write-behind: deployment rows and last-seen times reach the store in one batch."""

from __future__ import annotations

from hub.core.deployments import Deployment, Deployments
from hub.core.writebehind import WriteBehind
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
