"""Cluster labels set on the hub, end to end: `argosy cluster label` (the CLI, a separate
process) retargets a real hub's bundles on a running spoke at once, and the spoke registering
again with its old --labels does not undo it."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from argosy import __version__ as argosy_version
from argosy.api.v1 import fleet_pb2, fleet_pb2_grpc
from tests.cli.test_cli import argosy
from tests.harness import bundle_spec, eventually, running_hub, start_spoke

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: prod-only}\ndata: {a: b}\n"
PROD_ONLY = "targets:\n- clusterSelector:\n    matchLabels: {env: prod}\n"
KEY = "/ConfigMap/default/prod-only"


async def test_a_label_set_on_the_hub_brings_a_bundle_and_removing_it_takes_it_away(
    tmp_path: Path,
) -> None:
    async with running_hub(tmp_path / "hub") as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        spoke = start_spoke(
            hub=hub, name="c1", labels={"env": "dev"}, token=token, data_dir=tmp_path / "s1"
        )
        try:
            await eventually(spoke.spoke.link.connected.is_set, what="spoke connected")
            await hub.stub.ApplyBundles(
                fleet_pb2.ApplyBundlesRequest(
                    bundles=[bundle_spec("prod-only", {"cm.yaml": CM, "fleet.yaml": PROD_ONLY})]
                ),
                timeout=10,
            )
            code, out, err = await argosy(hub, "cluster", "label", "c1", "env=prod")
            assert code == 0, err
            assert out == "cluster/c1 labeled: env=prod\n"
            await eventually(lambda: KEY in spoke.cluster.objects, what="bundle on c1")

            # The spoke comes back without its credential and registers again with --labels
            # env=dev: the hub's env=prod stands, and the bundle stays.
            await spoke.stop()
            token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
            spoke = start_spoke(
                hub=hub,
                name="c1",
                labels={"env": "dev"},
                token=token,
                data_dir=tmp_path / "s1-again",
                cluster=spoke.cluster,
            )
            await eventually(spoke.spoke.link.connected.is_set, what="spoke reconnected")
            code, out, err = await argosy(hub, "cluster", "list", "-l", "env=prod", "-o", "json")
            assert code == 0, err
            assert '"name": "c1"' in out and '"env": "prod"' in out
            status = await hub.stub.GetStatus(fleet_pb2.GetStatusRequest(), timeout=5)
            [bundle] = status.bundles
            assert bundle.clusters_desired == 1

            code, out, err = await argosy(hub, "cluster", "label", "c1", "env-")
            assert code == 0, err
            await eventually(lambda: KEY not in spoke.cluster.objects, what="bundle gone")
            code, out, err = await argosy(hub, "cluster", "list", "-l", "env=prod", "-o", "json")
            assert code == 0 and out.strip() == "[]", (out, err)
        finally:
            await spoke.stop()


async def test_version_shows_the_hubs_and_a_viewer_may_read_it_but_not_label(
    tmp_path: Path,
) -> None:
    async with running_hub(tmp_path / "hub") as hub:
        code, out, err = await argosy(hub, "version")
        assert code == 0, err
        assert out == (
            f"client: {argosy_version}\nimage:  ghcr.io/argosy/argosy:{argosy_version}\n"
            f"hub:    {argosy_version} ({hub.address})\n"
        )
        viewer = await hub.stub.CreateAdminToken(
            fleet_pb2.CreateAdminTokenRequest(role="viewer"), timeout=5
        )
        async with hub.admin_channel(viewer.token) as channel:
            stub = fleet_pb2_grpc.FleetServiceStub(channel)
            got = await stub.GetVersion(fleet_pb2.GetVersionRequest(), timeout=5)
            assert got.version == argosy_version
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.SetClusterLabels(
                    fleet_pb2.SetClusterLabelsRequest(name="c1", set={"a": "b"}), timeout=5
                )
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
