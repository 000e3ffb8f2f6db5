"""fleet.yaml deployment options that act on the spoke, end to end on simulated clusters:
forceSyncGeneration, serviceAccount, namespaceLabels/namespaceAnnotations, deleteNamespace."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from argosy.api.v1 import fleet_pb2
from tests.harness import (
    RunningHub,
    RunningSpoke,
    bundle_spec,
    bundle_status,
    eventually,
    running_hub,
    start_spoke,
)

CONFIG = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  color: blue
"""
SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: creds
stringData:
  user: admin
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{port: 80}]
"""
LABELS = [{"env": "dev"}, {"env": "prod"}]


@pytest.fixture
async def fleet(tmp_path: Path) -> AsyncIterator[tuple[RunningHub, list[RunningSpoke]]]:
    async with running_hub(tmp_path / "hub") as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        spokes = [
            start_spoke(
                hub=hub, name=f"c{i}", labels=labels, token=token, data_dir=tmp_path / f"s{i}"
            )
            for i, labels in enumerate(LABELS)
        ]
        await eventually(
            lambda: all(s.spoke.link.connected.is_set() for s in spokes), what="spokes connected"
        )
        try:
            yield hub, spokes
        finally:
            for s in spokes:
                await s.stop()


async def apply_ready(hub: RunningHub, name: str, files: dict[str, str]) -> str:
    resp = await hub.stub.ApplyBundles(
        fleet_pb2.ApplyBundlesRequest(bundles=[bundle_spec(name, files)]), timeout=10
    )
    revision = resp.bundles[0].revision

    async def ready() -> bool:
        b = await bundle_status(hub.stub, name)
        return b is not None and b.clusters_ready == b.clusters_desired == len(LABELS)

    await eventually(ready, what=f"bundle {name} ready")
    return revision


def holds(s: RunningSpoke, name: str, *, force_sync_generation: int) -> bool:
    last = s.upserts()[-1]
    held = s.spoke.state.deployments.get(name)
    return (
        held is not None
        and held.revision == last.revision
        and last.options.force_sync_generation == force_sync_generation
    )


def bundle(fleet_yaml: str) -> dict[str, str]:
    return {
        "fleet.yaml": fleet_yaml,
        "config.yaml": CONFIG,
        "secret.yaml": SECRET,
        "service.yaml": SERVICE,
    }


async def test_a_new_force_sync_generation_reapplies_every_object(
    fleet: tuple[RunningHub, list[RunningSpoke]],
) -> None:
    hub, spokes = fleet
    first = await apply_ready(hub, "web", bundle("forceSyncGeneration: 1\n"))
    before = [s.cluster.apply_calls for s in spokes]
    second = await apply_ready(hub, "web", bundle("forceSyncGeneration: 2\n"))
    assert second != first
    for s, n in zip(spokes, before, strict=True):
        await eventually(
            functools.partial(holds, s, "web", force_sync_generation=2),
            what="the new revision held by the spoke",
        )
        # Nothing in the objects changed, yet all three were applied again.
        assert s.cluster.apply_calls - n == 3


async def test_service_account_and_namespace_metadata_reach_the_cluster(
    fleet: tuple[RunningHub, list[RunningSpoke]],
) -> None:
    hub, spokes = fleet
    await apply_ready(
        hub,
        "team",
        bundle(
            "namespace: team-a\n"
            "serviceAccount: deployer\n"
            "namespaceLabels: {team: a, tier: web}\n"
            "namespaceAnnotations: {owner: alice}\n"
        ),
    )
    user = "system:serviceaccount:argosy-system:deployer"
    for s in spokes:
        assert s.cluster.actors["/ConfigMap/team-a/settings"] == user
        assert s.cluster.actors["/Namespace//team-a"] == user
        meta = s.cluster.objects["/Namespace//team-a"]["metadata"]
        assert meta["labels"] == {"team": "a", "tier": "web"}
        assert meta["annotations"] == {"owner": "alice"}
    # A label someone else put there stays; one the bundle drops goes away.
    for s in spokes:
        s.cluster.objects["/Namespace//team-a"]["metadata"]["labels"]["keep"] = "me"
    await apply_ready(hub, "team", bundle("namespace: team-a\nnamespaceLabels: {team: a}\n"))
    for s in spokes:
        meta = s.cluster.objects["/Namespace//team-a"]["metadata"]
        assert meta["labels"] == {"team": "a", "keep": "me"}
        assert meta["annotations"] == {}
        assert s.cluster.actors["/ConfigMap/team-a/settings"] == ""


async def test_customizations_differing_only_in_apply_options_do_not_share_a_render(
    fleet: tuple[RunningHub, list[RunningSpoke]],
) -> None:
    hub, spokes = fleet
    await apply_ready(
        hub,
        "web",
        bundle(
            "defaultNamespace: shop\n"
            "targetCustomizations:\n"
            "- name: prod\n"
            "  clusterSelector: {matchLabels: {env: prod}}\n"
            "  serviceAccount: prod-deployer\n"
            "  namespaceLabels: {env: prod}\n"
        ),
    )
    dev, prod = spokes
    assert dev.cluster.actors["/ConfigMap/shop/settings"] == ""
    assert "labels" not in dev.cluster.objects["/Namespace//shop"]["metadata"]
    user = "system:serviceaccount:argosy-system:prod-deployer"
    assert prod.cluster.actors["/ConfigMap/shop/settings"] == user
    assert prod.cluster.objects["/Namespace//shop"]["metadata"]["labels"] == {"env": "prod"}


async def test_delete_namespace_deletes_the_deployment_namespace_with_the_bundle(
    fleet: tuple[RunningHub, list[RunningSpoke]],
) -> None:
    hub, spokes = fleet
    await apply_ready(hub, "gone", bundle("namespace: scratch\ndeleteNamespace: true\n"))
    await apply_ready(hub, "kept", bundle("namespace: stays\n"))
    await apply_ready(hub, "dflt", {"fleet.yaml": "deleteNamespace: true\n", "c.yaml": CONFIG})
    agent = {"fleet.yaml": "namespace: argosy-system\ndeleteNamespace: true\n", "c.yaml": CONFIG}
    await apply_ready(hub, "agent", agent)
    for s in spokes:
        assert "/Namespace//scratch" in s.cluster.objects
        s.cluster.objects["/Namespace//default"] = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "default"},
        }
    for name in ("gone", "kept", "dflt", "agent"):
        await hub.stub.DeleteBundle(fleet_pb2.DeleteBundleRequest(name=name), timeout=5)
    await eventually(
        lambda: all(
            "/Namespace//scratch" not in s.cluster.objects
            and "/ConfigMap/default/settings" not in s.cluster.objects
            and not s.spoke.state.deployments
            for s in spokes
        ),
        what="bundles deleted",
    )
    for s in spokes:
        # Without deleteNamespace the namespace stays; `default` and the agent's own namespace
        # are never deleted.
        assert "/Namespace//stays" in s.cluster.objects
        assert "/Namespace//default" in s.cluster.objects
        assert "/Namespace//argosy-system" in s.cluster.objects


async def test_delete_namespace_spares_a_namespace_another_bundle_uses(
    fleet: tuple[RunningHub, list[RunningSpoke]],
) -> None:
    hub, spokes = fleet
    await apply_ready(hub, "one", bundle("namespace: shared\ndeleteNamespace: true\n"))
    await apply_ready(
        hub, "two", {"fleet.yaml": "namespace: shared\n", "c.yaml": SERVICE.replace("web", "api")}
    )
    await hub.stub.DeleteBundle(fleet_pb2.DeleteBundleRequest(name="one"), timeout=5)
    await eventually(
        lambda: all("one" not in s.spoke.state.deployments for s in spokes), what="one deleted"
    )
    for s in spokes:
        assert "/Namespace//shared" in s.cluster.objects
        assert "/Service/shared/api" in s.cluster.objects
