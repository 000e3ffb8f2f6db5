"""An apply of unchanged content retries the deployments that failed, and only those."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from argosy.api.v1 import fleet_pb2
from hub.replication import Change, apply_change
from spoke.backends.simulated import SimulatedCluster, SimulationSettings
from tests.harness import (
    RunningSpoke,
    bundle_spec,
    bundle_status,
    eventually,
    running_hub,
    start_spoke,
)

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{v: '1'}}\n"


def retries(s: RunningSpoke) -> list[str]:
    return [m.retry.bundle for m in s.received if m.WhichOneof("msg") == "retry"]


def upserts_of(s: RunningSpoke, bundle: str) -> int:
    return sum(1 for u in s.upserts() if u.bundle == bundle)


async def test_reapplying_unchanged_content_retries_only_failed_deployments(
    tmp_path: Path,
) -> None:
    async with running_hub(tmp_path / "hub") as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        bad = start_spoke(
            hub=hub,
            name="bad",
            labels={},
            token=token,
            data_dir=tmp_path / "bad",
            cluster=SimulatedCluster(SimulationSettings(fail_pattern="gadget"), name="bad"),
        )
        good = start_spoke(hub=hub, name="good", labels={}, token=token, data_dir=tmp_path / "g")
        spokes = (bad, good)
        try:
            for s in spokes:
                await eventually(s.spoke.link.connected.is_set)
            web = bundle_spec("web", {"cm.yaml": CM.format(name="gadget")})

            async def apply(*specs: fleet_pb2.BundleSpec) -> list[bool]:
                resp = await hub.stub.ApplyBundles(
                    fleet_pb2.ApplyBundlesRequest(bundles=list(specs)), timeout=30
                )
                return [b.changed for b in resp.bundles]

            assert await apply(web) == [True]

            async def one_failed() -> bool:
                b = await bundle_status(hub.stub, "web")
                counts = {s.state: s.count for s in b.state_counts} if b else {}
                return counts == {"ErrApplied": 1, "Ready": 1}

            await eventually(one_failed, what="bad failed")
            assert retries(bad) == retries(good) == []
            # The same content again: nothing new to send, so the failed one is retried.
            assert await apply(web) == [False]
            await eventually(lambda: retries(bad) == ["web"], what="bad told to retry")
            assert upserts_of(bad, "web") == 1  # a retry, not the revision sent again
            # Whatever good was sent for web came before this (its queue is in order): never
            # a retry, as nothing of it failed.
            other = bundle_spec("other", {"cm.yaml": CM.format(name="other")})
            assert await apply(other) == [True]
            await eventually(lambda: upserts_of(good, "other") == 1, what="good got other")
            assert retries(good) == []
        finally:
            for s in spokes:
                await s.stop()


class RecordingPeers:
    """Stands for the other replicas: records what this hub tells them."""

    def __init__(self) -> None:
        self.published: list[tuple[str, str, tuple[str, ...]]] = []

    def publish(
        self, kind: str, name: str = "", *, ids: Sequence[str] = (), revision: str = ""
    ) -> None:
        self.published.append((kind, name, tuple(ids)))

    async def lead(self, bundle: str) -> bool:
        return True

    def first(self) -> bool:
        return True


async def test_a_retry_reaches_a_spoke_whose_stream_is_on_another_replica(tmp_path: Path) -> None:
    async with running_hub(tmp_path / "hub") as hub:
        fleet = hub.hub.fleet
        assert fleet is not None
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        failing = SimulatedCluster(SimulationSettings(fail_pattern="gadget"), name="bad")
        bad = start_spoke(
            hub=hub, name="bad", labels={}, token=token, data_dir=tmp_path / "b", cluster=failing
        )
        try:
            await eventually(bad.spoke.link.connected.is_set)
            web = bundle_spec("web", {"cm.yaml": CM.format(name="gadget")})
            request = fleet_pb2.ApplyBundlesRequest(bundles=[web])
            await hub.stub.ApplyBundles(request, timeout=30)

            async def failed() -> bool:
                b = await bundle_status(hub.stub, "web")
                return b is not None and b.state == "ErrApplied"

            await eventually(failed, what="bad failed")
            await bad.stop()
            record = fleet.cluster_by_name("bad")
            assert record is not None
            await eventually(lambda: not fleet.connected(record.id), what="stream gone")
            # Its stream is now held by replica "b": this replica can only pass the word on.
            peers = RecordingPeers()
            fleet.peers = peers
            fleet.remote_attached("b", [record.id], attached=True)
            await hub.stub.ApplyBundles(request, timeout=30)
            assert ("retry", "web", (record.id,)) in peers.published
            # On the replica holding the stream, the word reaches the spoke.
            fleet.remote_attached("b", [record.id], attached=False)
            bad = start_spoke(
                hub=hub,
                name="bad",
                labels={},
                token=token,
                data_dir=tmp_path / "b",
                cluster=failing,
            )
            await eventually(bad.spoke.link.connected.is_set)
            await apply_change(fleet, Change("b", "retry", "web", ids=(record.id,)))
            await eventually(lambda: retries(bad) == ["web"], what="bad told to retry")
        finally:
            await bad.stop()
