"""Rendering happens once per distinct target input, however many clusters share it."""

from __future__ import annotations

from pathlib import Path

from argosy.api.v1 import fleet_pb2, resources_pb2
from tests.harness import running_hub

FLEET_YAML = """\
defaultNamespace: web
helm:
  chart: ./chart
  values:
    env: ${ .ClusterLabels.env }
targetCustomizations:
- name: prod
  clusterSelector: {matchLabels: {env: prod}}
  helm: {values: {replicas: 3}}
"""
CHART = {
    "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    "chart/values.yaml": "replicas: 1\nenv: none\n",
    "chart/templates/cm.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n"
        "data: {env: {{ .Values.env | quote }}, replicas: {{ .Values.replicas | quote }}}\n"
    ),
}


async def test_two_hundred_clusters_three_inputs_three_renders(tmp_path: Path) -> None:
    async with running_hub(tmp_path / "hub") as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        for i in range(200):
            env = ("dev", "test", "prod")[i % 3]
            await hub.register(token=token, name=f"c{i}", labels={"env": env})
        assert hub.hub.renderer is not None
        before = hub.hub.renderer.renders
        files = {"fleet.yaml": FLEET_YAML, **CHART}
        spec = fleet_pb2.BundleSpec(
            name="web",
            files=[resources_pb2.BundleFile(path=p, content=c.encode()) for p, c in files.items()],
        )
        await hub.stub.ApplyBundles(fleet_pb2.ApplyBundlesRequest(bundles=[spec]), timeout=60)
        # dev and test differ by the templated env label, prod by it and its customization.
        assert hub.hub.renderer.renders - before == 3
        status = await hub.stub.GetStatus(fleet_pb2.GetStatusRequest(), timeout=5)
        assert status.bundles[0].clusters_desired == 200
