"""The Fleet's replica entry points (hub/replication.py calls them): two Fleets on one in-memory
store stand for two hub replicas on one database, the change feed replaced by direct calls."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from argosy.bundle import BundleSource
from argosy.errors import TemporaryError
from argosy.states import State
from hub.core.planning import Plan
from hub.fleet import Fleet
from hub.models import ClusterRecord
from hub.reloading import same_cluster
from hub.rendering import Renderer
from hub.status import StatusBook
from tests.hub.fakes import FakeListener, FakePeers, MemoryStore, configmap_bundle


async def replica(store: MemoryStore, peers: FakePeers | None = None) -> Fleet:
    fleet = Fleet(store=store, status=StatusBook(), renderer=Renderer())
    fleet.peers = peers or FakePeers()
    await fleet.load()
    return fleet


async def register(fleet: Fleet, name: str = "one") -> ClusterRecord:
    _, token = await fleet.create_token()
    cluster, _, _ = await fleet.register(token=token, name=name, labels={})
    return cluster


async def apply(fleet: Fleet, name: str, fleet_yaml: str = "", *, cluster_id: str = "") -> str:
    """Apply a one-ConfigMap bundle; returns the revision the cluster is to hold, if given."""
    await fleet.apply_bundles([(BundleSource(name, configmap_bundle(name, fleet_yaml)), {})])
    dep = fleet.deployment(cluster_id, name)
    return dep.desired if dep else ""


def connected_shown(fleet: Fleet, cluster_id: str) -> bool:
    view = fleet.status.cluster_view(cluster_id)
    return view is not None and view.connected


async def test_a_stream_on_another_replica_counts_as_connected_until_it_closes_there() -> None:
    store = MemoryStore()
    a = await replica(store)
    cluster = await register(a)
    assert not a.connected(cluster.id)
    a.remote_attached("b", [cluster.id], attached=True)
    assert a.connected(cluster.id) and connected_shown(a, cluster.id)
    assert a.attached_here() == []
    # Only the replica holding the stream can say it closed.
    a.remote_attached("c", [cluster.id], attached=False)
    assert a.connected(cluster.id)
    a.remote_attached("b", [cluster.id], attached=False)
    assert not a.connected(cluster.id) and not connected_shown(a, cluster.id)


async def test_a_replica_that_stops_answering_takes_its_streams_with_it() -> None:
    store = MemoryStore()
    a = await replica(store)
    cluster = await register(a)
    a.remote_attached("b", [cluster.id], attached=True)
    a.peer_gone("b")
    assert not a.connected(cluster.id)


async def test_a_stream_here_wins_over_news_of_one_elsewhere() -> None:
    store = MemoryStore()
    peers = FakePeers()
    a = await replica(store, peers)
    cluster = await register(a)
    a.attach(cluster.id, FakeListener())
    assert peers.published[-1] == ("attach", "", (cluster.id,))
    a.remote_attached("b", [cluster.id], attached=False)
    assert a.connected(cluster.id) and a.attached_here() == [cluster.id]


async def test_bundles_clusters_and_groups_made_on_one_replica_reach_the_other() -> None:
    store = MemoryStore()
    a, b = await replica(store), await replica(store)
    cluster = await register(a)
    await b.reload_cluster(cluster.id)
    assert b.cluster_by_name("one") == cluster
    revision = await apply(a, "web", cluster_id=cluster.id)
    await b.reload_bundle("web")
    dep = b.deployment(cluster.id, "web")
    assert dep is not None and dep.desired == revision and dep.released == revision
    await a.delete_bundle("web")
    await b.reload_bundle("web")
    assert b.deployment(cluster.id, "web") is None
    assert [x.name for x in b.bundles()] == []


async def test_what_one_replicas_spokes_reported_shows_on_the_other() -> None:
    store = MemoryStore()
    a, b = await replica(store), await replica(store)
    cluster = await register(a)
    await b.reload_cluster(cluster.id)
    revision = await apply(a, "web", cluster_id=cluster.id)
    await b.reload_bundle("web")
    a.attach(cluster.id, FakeListener())
    a.on_ack(cluster.id, bundle="web", revision=revision, error="")
    await a.flush()
    assert b.status.state_of("web", cluster.id) == State.PENDING
    await b.import_deployments([("web", cluster.id)])
    assert b.status.state_of("web", cluster.id) == State.NOT_READY


async def test_a_replica_holding_the_stream_keeps_its_own_fresher_view() -> None:
    store = MemoryStore()
    a, b = await replica(store), await replica(store)
    cluster = await register(a)
    await b.reload_cluster(cluster.id)
    revision = await apply(a, "web", cluster_id=cluster.id)
    await b.reload_bundle("web")
    a.attach(cluster.id, FakeListener())
    a.on_ack(cluster.id, bundle="web", revision=revision, error="")
    await a.flush()
    b.attach(cluster.id, FakeListener())
    await b.import_deployments([("web", cluster.id)])
    assert b.status.state_of("web", cluster.id) == State.PENDING


async def test_releases_decided_by_the_lease_holder_are_applied_and_sent() -> None:
    store = MemoryStore()
    a = await replica(store, FakePeers(leading=False))
    cluster = await register(a)
    listener = FakeListener()
    a.attach(cluster.id, listener)
    revision = await apply(
        a, "web", "rolloutStrategy:\n  maxUnavailable: 100%\n", cluster_id=cluster.id
    )
    await a.rollouts.gate_due()
    dep = a.deployment(cluster.id, "web")
    assert dep is not None and dep.released == ""
    assert a.status.state_of("web", cluster.id) == State.OUT_OF_SYNC
    a.remote_released("web", [(cluster.id, revision)])
    assert dep.released == revision
    assert listener.notified[-1:] == ["web"]
    assert a.status.state_of("web", cluster.id) == State.PENDING


async def test_a_retry_asked_on_another_replica_reaches_the_stream_here() -> None:
    store = MemoryStore()
    a = await replica(store)
    cluster = await register(a)
    listener = FakeListener()
    a.attach(cluster.id, listener)
    a.remote_retry("web", [cluster.id, "c-unknown"])
    assert listener.retried == ["web"]


async def test_a_paused_rollout_on_one_replica_is_paused_on_the_other() -> None:
    store = MemoryStore()
    a, b = await replica(store), await replica(store)
    await apply(a, "web")
    await b.reload_bundle("web")
    await a.set_paused("web", True)
    assert not b.paused("web")
    await b.reload_control("web")
    assert b.paused("web")


async def test_a_rollbacks_pin_on_one_replica_holds_on_the_other() -> None:
    store = MemoryStore()
    a, b = await replica(store), await replica(store)
    await apply(a, "web")
    await apply(a, "web", "defaultNamespace: other\n")
    await b.reload_bundle("web")
    _, pinned, _ = await a.rollback("web")
    await b.reload_bundle("web")
    assert not b.pinned("web")
    await b.reload_control("web")
    assert b.pinned("web") == pinned == 3
    entries, current = await b.history("web")  # read from the shared store
    assert [e.rev for e in entries] == [1, 2, 3] and current == 3
    (result,) = await b.apply_bundles([(BundleSource("web", configmap_bundle("web")), {})])
    assert "pinned at rev 3" in result.skipped
    await b.unpin("web")
    await a.reload_control("web")
    assert not a.pinned("web")


async def test_resync_catches_up_with_everything_missed() -> None:
    store = MemoryStore()
    a, b = await replica(store), await replica(store)
    cluster = await register(a)
    await apply(a, "web")
    await a.set_paused("web", True)
    await b.resync()
    assert b.cluster_by_name("one") == cluster
    assert [x.name for x in b.bundles()] == ["web"]
    assert b.paused("web")
    await a.delete_cluster("one")
    await b.resync()
    assert b.cluster_by_name("one") is None


async def test_an_unknown_cluster_is_looked_up_in_the_store_only_with_replicas() -> None:
    store = MemoryStore()
    a, b = await replica(store), await replica(store)
    cluster = await register(a)
    assert await b.refresh_cluster(cluster.id)
    assert b.cluster(cluster.id) == cluster
    lone = Fleet(store=MemoryStore(), status=StatusBook(), renderer=Renderer())
    await lone.load()
    assert not await lone.refresh_cluster(cluster.id)


async def test_a_revoked_cluster_is_detached_everywhere() -> None:
    store = MemoryStore()
    peers = FakePeers()
    a = await replica(store, peers)
    cluster = await register(a)
    listener = FakeListener()
    a.attach(cluster.id, listener)
    await a.revoke_cluster("one")
    assert listener.closed == "cluster revoked"
    # The other replicas hear the stream is gone, and status shows it.
    assert peers.published[-1] == ("detach", "", (cluster.id,))
    assert not a.connected(cluster.id) and not connected_shown(a, cluster.id)
    # The session's own detach, when its stream ends, finds nothing left to do.
    a.detach(cluster.id, listener)
    assert [p for p in peers.published if p[0] == "detach"] == [("detach", "", (cluster.id,))]


async def test_labels_set_on_one_replica_retarget_the_cluster_on_the_other() -> None:
    store = MemoryStore()
    a, b = await replica(store), await replica(store)
    cluster = await register(a)
    await b.reload_cluster(cluster.id)
    prod_only = "targets:\n- clusterSelector:\n    matchLabels: {env: prod}\n"
    await apply(a, "web", prod_only)
    await b.reload_bundle("web")
    assert b.deployment(cluster.id, "web") is None
    await a.set_cluster_labels("one", set_={"env": "prod"}, remove=[])
    await b.reload_cluster(cluster.id)
    assert b.deployment(cluster.id, "web") is not None
    view = b.status.cluster_view(cluster.id)
    assert view is not None and dict(view.labels) == {"env": "prod"}
    await a.set_cluster_labels("one", set_={}, remove=["env"])
    await b.reload_cluster(cluster.id)
    assert b.deployment(cluster.id, "web") is None


async def test_a_rollback_on_a_replica_behind_the_store_asks_to_try_again() -> None:
    store = MemoryStore()
    a, b = await replica(store), await replica(store)
    await apply(a, "web")
    await b.reload_bundle("web")
    await apply(a, "web", "defaultNamespace: other\n")  # b has not heard of rev 2
    # Rev 1's content is what b holds: applied there, it would change and record nothing.
    with pytest.raises(TemporaryError, match="changed meanwhile"):
        await b.rollback("web")
    assert [e.rev for e in store.history["web"]] == [1, 2]
    assert "web" not in store.controls and not b.pinned("web")
    await b.reload_bundle("web")
    _, pinned, target = await b.rollback("web")
    assert (pinned, target) == (3, 1)


async def test_a_cluster_only_seen_since_is_not_planned_again() -> None:
    # A spoke may stream to b before b reads its registration notice; by the time the notice
    # is applied, the spoke's hello has moved last_seen in the store. That alone is no change:
    # re-planning it (with the O(deployments) sweep) per cluster made connect O(N^2).
    store = MemoryStore()
    a, b = await replica(store), await replica(store)
    await apply(a, "web")
    await b.reload_bundle("web")
    cluster = await register(a)
    assert await b.refresh_cluster(cluster.id)
    store.clusters[cluster.id] = dataclasses.replace(cluster, last_seen=1_700_000_000)
    planned = 0
    real_plan = b.plan

    async def counting_plan(*args: Any, **kwargs: Any) -> Plan:
        nonlocal planned
        planned += 1
        return await real_plan(*args, **kwargs)

    b.plan = counting_plan  # type: ignore[method-assign]
    await b.reload_cluster(cluster.id)
    await b.resync()
    assert planned == 0
    # A change that targets does re-plan.
    store.clusters[cluster.id] = dataclasses.replace(cluster, labels={"env": "prod"})
    await b.reload_cluster(cluster.id)
    assert planned == 1 and b.cluster(cluster.id) == store.clusters[cluster.id]


def test_same_cluster_leaves_out_last_seen_only() -> None:
    one = ClusterRecord(id="c1", name="one", labels={}, credential_hash="h", created=1)
    assert same_cluster(one, dataclasses.replace(one, last_seen=5))
    assert not same_cluster(one, dataclasses.replace(one, revoked=True))
    assert not same_cluster(one, dataclasses.replace(one, credential_hash="h2"))
    assert not same_cluster(one, None) and same_cluster(None, None)
