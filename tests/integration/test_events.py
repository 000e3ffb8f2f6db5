"""The event log end to end: a hub, simulated spokes, ListEvents/WatchEvents, a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest

from argosy.api.v1 import fleet_pb2, fleet_pb2_grpc
from tests.harness import RunningHub, bundle_spec, eventually, running_hub, start_spoke

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {v: '%s'}\n"


async def events_of(
    hub: RunningHub, *, bundle: str = "", cluster: str = "", kind: str = ""
) -> list[fleet_pb2.Event]:
    request = fleet_pb2.ListEventsRequest(bundle=bundle, cluster=cluster, kind=kind)
    resp = await hub.stub.ListEvents(request, timeout=5)
    return list(resp.events)


async def apply(hub: RunningHub, name: str, v: str = "1") -> str:
    resp = await hub.stub.ApplyBundles(
        fleet_pb2.ApplyBundlesRequest(bundles=[bundle_spec(name, {"cm.yaml": CM % v})]),
        timeout=30,
    )
    return resp.bundles[0].revision


async def test_what_happens_is_recorded_watched_and_kept_across_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "hub"
    async with running_hub(data, offline_grace_seconds=0.3) as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        spokes = [
            start_spoke(hub=hub, name=n, labels={}, token=token, data_dir=tmp_path / n)
            for n in ("one", "two")
        ]
        try:
            await eventually(
                lambda: hub.hub.fleet is not None and len(hub.hub.fleet.attached_here()) == 2,
                what="both spokes connected",
            )
            # A viewer may read the log, live too.
            viewer = (
                await hub.stub.CreateAdminToken(
                    fleet_pb2.CreateAdminTokenRequest(role="viewer"), timeout=5
                )
            ).token
            async with hub.admin_channel(viewer) as channel:
                stub = fleet_pb2_grpc.FleetServiceStub(channel)
                watch = stub.WatchEvents(fleet_pb2.WatchEventsRequest(bundle="web"))
                revision = await apply(hub, "web")
                live = await asyncio.wait_for(watch.read(), 10)
                assert isinstance(live, fleet_pb2.WatchEventsResponse)
                assert (live.event.kind, live.event.revision) == ("BundleApplied", revision)
                watch.cancel()
            fleet = hub.hub.fleet
            assert fleet is not None
            await eventually(
                lambda: not fleet.events._subscribers, what="the cancelled watch unsubscribed"
            )

            applied = await events_of(hub, kind="BundleApplied")
            assert [(e.bundle, e.revision) for e in applied] == [("web", revision)]
            assert applied[0].actor.startswith("token/a-")  # the hub's admin token
            registered = await events_of(hub, kind="ClusterRegistered")
            assert sorted(e.cluster for e in registered) == ["one", "two"]
            assert all(e.actor.startswith("registration-token/") for e in registered)

            # A deployment's revision is what `argosy status web` shows per cluster: the
            # revision rendered for that cluster.
            detail = await hub.stub.GetStatus(
                fleet_pb2.GetStatusRequest(detail_bundles=["web"]), timeout=5
            )
            rendered = {d.cluster: d.revision for d in detail.bundles[0].deployments}

            async def ready_on(cluster: str) -> bool:
                return any(
                    e.message.split(" (")[0].endswith("-> Ready")
                    and e.revision == rendered[cluster]
                    for e in await events_of(
                        hub, bundle="web", cluster=cluster, kind="DeploymentStateChanged"
                    )
                )

            await eventually(lambda: ready_on("one"), what="web Ready on one, recorded")
            await eventually(lambda: ready_on("two"), what="web Ready on two, recorded")

            await spokes[1].stop()  # killed: its stream ends, and it stays away past the grace

            async def offline() -> list[str]:
                return [e.cluster for e in await events_of(hub, kind="ClusterOffline")]

            await eventually(offline, timeout=10, what="two recorded offline")
            assert await offline() == ["two"]

            await hub.stub.RevokeCluster(fleet_pb2.RevokeClusterRequest(name="one"), timeout=5)
            await eventually(
                lambda: events_of(hub, kind="ClusterRevoked"), what="one recorded revoked"
            )
            (revoked,) = await events_of(hub, kind="ClusterRevoked")
            assert revoked.cluster == "one" and revoked.actor == applied[0].actor
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await hub.stub.ListEvents(fleet_pb2.ListEventsRequest(kind="Nope"), timeout=5)
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "kind: 'Nope' is not an event kind" in (err.value.details() or "")
        finally:
            for spoke in spokes:
                await spoke.stop()
        before = await events_of(hub)

    # The same SQLite file: the log is still there, and numbers go on from where they were.
    async with running_hub(data) as hub:
        after = await events_of(hub)
        assert [e.seq for e in after[: len(before)]] == [e.seq for e in before]
        await apply(hub, "db")
        await eventually(lambda: events_of(hub, bundle="db"), what="db recorded")
        (db,) = await events_of(hub, bundle="db", kind="BundleApplied")
        assert db.seq > before[-1].seq


async def test_the_log_is_trimmed_to_the_retention(tmp_path: Path) -> None:
    async with running_hub(tmp_path / "hub", event_retention=3) as hub:
        for name in [f"b{i}" for i in range(5)]:
            await apply(hub, name)

            async def recorded(name: str = name) -> bool:
                return bool(await events_of(hub, bundle=name))

            # Each in a batch of its own: trimming happens as batches are written.
            await eventually(recorded, what=f"{name} recorded")
        assert [e.bundle for e in await events_of(hub)] == ["b2", "b3", "b4"]
