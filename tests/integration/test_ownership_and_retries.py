"""Status that does not lie, end to end with simulated spokes: failed applies are retried until
the hub shows them Ready, and two bundles cannot silently share one object."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from argosy.api.v1 import fleet_pb2
from spoke.backends.base import OWNER_LABEL
from spoke.backends.simulated import SimulatedCluster, SimulationSettings
from tests.harness import RunningHub, bundle_spec, eventually, running_hub, start_spoke

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {v: '1'}\n"
CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  names: {kind: Gadget, plural: gadgets}
  scope: Namespaced
  versions: [{name: v1, served: true, storage: true}]
"""
GADGET = "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g1}\n"


async def apply(hub: RunningHub, name: str, files: Mapping[str, str]) -> None:
    await hub.stub.ApplyBundles(
        fleet_pb2.ApplyBundlesRequest(bundles=[bundle_spec(name, files)]), timeout=30
    )


async def detail(hub: RunningHub, bundle: str) -> fleet_pb2.DeploymentDetail | None:
    resp = await hub.stub.GetStatus(fleet_pb2.GetStatusRequest(detail_bundles=[bundle]), timeout=5)
    for b in resp.bundles:
        if b.name == bundle and b.deployments:
            return b.deployments[0]
    return None


async def state_is(hub: RunningHub, bundle: str, state: str) -> bool:
    d = await detail(hub, bundle)
    return d is not None and d.state == state


async def test_a_custom_resource_bundle_becomes_ready_once_another_bundle_installs_its_crd(
    tmp_path: Path,
) -> None:
    async with running_hub(tmp_path / "hub") as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        cluster = SimulatedCluster(
            SimulationSettings(ready_delay=0.02, require_crds=True), name="c1"
        )
        spoke = start_spoke(
            hub=hub, name="c1", labels={}, token=token, data_dir=tmp_path / "c1", cluster=cluster
        )
        try:
            await apply(hub, "gadgets", {"gadget.yaml": GADGET})
            await eventually(lambda: state_is(hub, "gadgets", "ErrApplied"), what="ErrApplied")
            d = await detail(hub, "gadgets")
            assert d is not None and 'does not serve kind "Gadget"' in d.message
            await apply(hub, "crds", {"crd.yaml": CRD})
            # No user action: the spoke retries when the cluster starts serving the kind, and
            # its status report clears the error the hub shows.
            await eventually(lambda: state_is(hub, "gadgets", "Ready"), what="gadgets Ready")
            d = await detail(hub, "gadgets")
            assert d is not None and "does not serve" not in d.message
        finally:
            await spoke.stop()


async def test_one_directory_applied_under_two_names_does_not_share_its_objects(
    tmp_path: Path,
) -> None:
    key = "/ConfigMap/default/x"
    async with running_hub(tmp_path / "hub") as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        spoke = start_spoke(
            hub=hub, name="c1", labels={}, token=token, data_dir=tmp_path / "c1", ready_delay=0.02
        )
        cluster = spoke.cluster
        try:
            await apply(hub, "dup-one", {"cm.yaml": CM})
            await eventually(lambda: state_is(hub, "dup-one", "Ready"), what="dup-one Ready")
            await apply(hub, "dup-two", {"cm.yaml": CM})
            await eventually(lambda: state_is(hub, "dup-two", "ErrApplied"), what="refused")
            d = await detail(hub, "dup-two")
            assert d is not None
            assert "configmap default/x is owned by bundle dup-one" in d.message
            assert cluster.objects[key]["metadata"]["labels"][OWNER_LABEL] == "dup-one"
            assert await state_is(hub, "dup-one", "Ready")

            # Deleting the refused bundle does not delete the owner's object.
            await hub.stub.DeleteBundle(fleet_pb2.DeleteBundleRequest(name="dup-two"), timeout=5)
            await eventually(lambda: "dup-two" not in spoke.spoke.state.deployments)
            assert key in cluster.objects
            assert await state_is(hub, "dup-one", "Ready")

            # Once the owner is deleted, the other bundle takes the object by itself.
            await apply(hub, "dup-two", {"cm.yaml": CM})
            await eventually(lambda: state_is(hub, "dup-two", "ErrApplied"), what="refused")
            await hub.stub.DeleteBundle(fleet_pb2.DeleteBundleRequest(name="dup-one"), timeout=5)
            await eventually(lambda: state_is(hub, "dup-two", "Ready"), what="dup-two Ready")
            assert cluster.objects[key]["metadata"]["labels"][OWNER_LABEL] == "dup-two"
        finally:
            await spoke.stop()


async def test_apply_warns_of_objects_another_bundle_has_on_the_same_clusters(
    tmp_path: Path,
) -> None:
    async with running_hub(tmp_path / "hub") as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        spokes = [
            start_spoke(
                hub=hub, name=n, labels={}, token=token, data_dir=tmp_path / n, ready_delay=0.02
            )
            for n in ("c1", "c2")
        ]
        try:
            await eventually(lambda: connected(hub, 2), what="2 spokes connected")
            first = await hub.stub.ApplyBundles(
                fleet_pb2.ApplyBundlesRequest(bundles=[bundle_spec("dup-one", {"cm.yaml": CM})]),
                timeout=30,
            )
            assert list(first.bundles[0].warnings) == []
            # The same object with its namespace written out is still the same object.
            explicit = CM.replace("{name: x}", "{name: x, namespace: default}")
            second = await hub.stub.ApplyBundles(
                fleet_pb2.ApplyBundlesRequest(
                    bundles=[bundle_spec("dup-two", {"cm.yaml": explicit})]
                ),
                timeout=30,
            )
            [warning] = second.bundles[0].warnings
            assert warning.startswith(
                "1 object (configmap default/x) also in bundle dup-one on 2 clusters (c1, c2)"
            )
            assert "helm.takeOwnership" in warning
            # Taking ownership on purpose is no surprise: no warning.
            owned = await hub.stub.ApplyBundles(
                fleet_pb2.ApplyBundlesRequest(
                    bundles=[
                        bundle_spec(
                            "dup-three",
                            {"cm.yaml": CM, "fleet.yaml": "helm:\n  takeOwnership: true\n"},
                        )
                    ]
                ),
                timeout=30,
            )
            assert list(owned.bundles[0].warnings) == []
        finally:
            for s in spokes:
                await s.stop()


async def connected(hub: RunningHub, n: int) -> bool:
    resp = await hub.stub.GetStatus(fleet_pb2.GetStatusRequest(), timeout=5)
    return sum(1 for c in resp.clusters if c.connected) == n
