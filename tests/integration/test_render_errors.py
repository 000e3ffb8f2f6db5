"""A bundle that cannot be rendered for one cluster shows that cluster in error, never hides it."""

from __future__ import annotations

from pathlib import Path

from argosy.api.v1 import fleet_pb2
from tests.harness import (
    RunningHub,
    bundle_spec,
    bundle_status,
    eventually,
    running_hub,
    start_spoke,
)

FLEET_YAML = """\
defaultNamespace: web
helm:
  chart: ./chart
  values:
    region: ${ .ClusterLabels.region }
"""
FILES = {
    "fleet.yaml": FLEET_YAML,
    "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    "chart/values.yaml": "region: none\n",
    "chart/templates/cm.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n"
        "data: {region: {{ .Values.region | quote }}}\n"
    ),
}
MISSING = "fleet.yaml helm.values: cluster bare has no ClusterLabels key 'region'"


async def detail(hub: RunningHub, cluster: str) -> fleet_pb2.DeploymentDetail:
    st = await hub.stub.GetStatus(fleet_pb2.GetStatusRequest(detail_bundles=["web"]), timeout=5)
    return next(d for d in st.bundles[0].deployments if d.cluster == cluster)


async def test_a_cluster_missing_a_templated_label_is_in_error_until_it_has_it(
    tmp_path: Path,
) -> None:
    async with running_hub(tmp_path / "hub") as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        eu = start_spoke(
            hub=hub, name="eu", labels={"region": "eu"}, token=token, data_dir=tmp_path / "eu"
        )
        bare = start_spoke(hub=hub, name="bare", labels={}, token=token, data_dir=tmp_path / "b")
        try:
            await eventually(eu.spoke.link.connected.is_set)
            await eventually(bare.spoke.link.connected.is_set)
            await hub.stub.ApplyBundles(
                fleet_pb2.ApplyBundlesRequest(bundles=[bundle_spec("web", FILES)]), timeout=60
            )

            async def ready(n: int) -> bool:
                b = await bundle_status(hub.stub, "web")
                return b is not None and b.clusters_ready == n

            await eventually(lambda: ready(1), what="eu Ready")
            b = await bundle_status(hub.stub, "web")
            assert b is not None
            assert (b.clusters_ready, b.clusters_desired, b.state) == (1, 2, "ErrApplied")
            assert b.summary == f"ErrApplied: 1 (bare); bare: {MISSING}"
            d = await detail(hub, "bare")
            assert (d.state, d.message) == ("ErrApplied", MISSING)
            assert "web" not in bare.spoke.state.deployments
            st = await hub.stub.GetStatus(fleet_pb2.GetStatusRequest(), timeout=5)
            c = next(c for c in st.clusters if c.name == "bare")
            assert (c.bundles_desired, c.state) == (1, "ErrApplied")

            # The cluster gains the label (it registers again with it): it deploys normally.
            await bare.stop()
            bare = start_spoke(
                hub=hub,
                name="bare",
                labels={"region": "us"},
                token=token,
                data_dir=tmp_path / "b2",
            )
            await eventually(lambda: ready(2), what="bare Ready once labelled")
            b = await bundle_status(hub.stub, "web")
            assert b is not None and (b.clusters_desired, b.state) == (2, "Ready")
            cm = bare.cluster.objects["/ConfigMap/web/web"]
            assert cm["data"] == {"region": "us"}
        finally:
            await eu.stop()
            await bare.stop()


async def test_a_cluster_registering_later_without_the_label_is_counted_in_error(
    tmp_path: Path,
) -> None:
    async with running_hub(tmp_path / "hub") as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        await hub.register(token=token, name="eu", labels={"region": "eu"})
        await hub.stub.ApplyBundles(
            fleet_pb2.ApplyBundlesRequest(bundles=[bundle_spec("web", FILES)]), timeout=60
        )
        await hub.register(token=token, name="bare", labels={})
        b = await bundle_status(hub.stub, "web")
        assert b is not None and b.clusters_desired == 2
        assert b.summary.startswith("ErrApplied: 1 (bare); Pending: 1 (eu)")
        d = await detail(hub, "bare")
        assert (d.state, d.message) == ("ErrApplied", MISSING)
        # A restarted hub finds the same error again.
    async with running_hub(tmp_path / "hub") as hub:
        d = await detail(hub, "bare")
        assert (d.state, d.message) == ("ErrApplied", MISSING)
