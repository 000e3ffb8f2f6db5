"""Large bundles travel in chunks; bundles past the hub's limits are refused, naming the limit."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from argosy.api.v1 import fleet_pb2
from tests.harness import bundle_spec, eventually, running_hub, start_spoke


def configmaps(n: int, size: int) -> dict[str, str]:
    return {
        f"cm{i}.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm{i}}}\n"
        f"data: {{blob: '{'x' * size}'}}\n"
        for i in range(n)
    }


async def test_a_10_mb_bundle_arrives_in_chunks(tmp_path: Path) -> None:
    async with running_hub(tmp_path / "hub") as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        spoke = start_spoke(hub=hub, name="one", labels={}, token=token, data_dir=tmp_path / "s")
        try:
            await eventually(spoke.spoke.link.connected.is_set)
            await hub.stub.ApplyBundles(
                fleet_pb2.ApplyBundlesRequest(
                    bundles=[bundle_spec("big", configmaps(30, 350_000))]
                ),
                timeout=60,
            )
            await eventually(
                lambda: (
                    sum(k.startswith("/ConfigMap/default/cm") for k in spoke.cluster.objects) == 30
                ),
                timeout=30,
            )
            chunks = spoke.upserts()
            assert len(chunks) >= 3 and {c.chunk_count for c in chunks} == {len(chunks)}
            assert [c.chunk_index for c in chunks] == list(range(len(chunks)))
            assert max(c.ByteSize() for c in chunks) <= 4 * 1024 * 1024 + 1024
        finally:
            await spoke.stop()


async def test_limits_are_enforced_with_clear_errors(tmp_path: Path) -> None:
    async with running_hub(tmp_path / "hub", max_bundle_bytes=1_000_000, max_resources=10) as hub:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await hub.stub.ApplyBundles(
                fleet_pb2.ApplyBundlesRequest(bundles=[bundle_spec("fat", configmaps(3, 400_000))]),
                timeout=30,
            )
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "limit is 1.0 MiB" in (err.value.details() or "")
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await hub.stub.ApplyBundles(
                fleet_pb2.ApplyBundlesRequest(bundles=[bundle_spec("many", configmaps(11, 10))]),
                timeout=30,
            )
        assert "renders 11 resources; the hub's limit is 10" in (err.value.details() or "")
        listed = await hub.stub.ListBundles(fleet_pb2.ListBundlesRequest(), timeout=5)
        assert list(listed.bundles) == []


def huge_configmap(name: str, size: int) -> str:
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: default}}\n"
        f"data: {{blob: '{'x' * size}'}}\n"
    )


async def test_hub_refuses_objects_over_the_api_server_limit_in_every_bundle(
    tmp_path: Path,
) -> None:
    """Sent without the CLI: the hub checks too, and names every bad bundle, not the first."""
    async with running_hub(tmp_path / "hub") as hub:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await hub.stub.ApplyBundles(
                fleet_pb2.ApplyBundlesRequest(
                    bundles=[
                        bundle_spec("one", {"cm.yaml": huge_configmap("huge", 1_600_000)}),
                        bundle_spec("two", {"x.yaml": "kind: ConfigMap\n"}),
                        bundle_spec("fine", {"cm.yaml": huge_configmap("small", 10)}),
                    ]
                ),
                timeout=30,
            )
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        details = err.value.details() or ""
        assert (
            "bundle one: cm.yaml:1: ConfigMap default/huge is 1,600,1" in details
            and "the Kubernetes API server takes at most 1,572,864 per object" in details
        ), details
        assert "bundle two: x.yaml:1: missing or empty 'apiVersion'" in details, details
        listed = await hub.stub.ListBundles(fleet_pb2.ListBundlesRequest(), timeout=5)
        assert list(listed.bundles) == []


CHART_FILES = {
    "chart/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    "chart/values.yaml": "size: 10\n",
    "chart/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n"
    'data:\n  blob: {{ repeat (int .Values.size) "x" | quote }}\n',
    "fleet.yaml": "helm:\n  chart: ./chart\ntargetCustomizations:\n- name: prod\n"
    "  clusterSelector:\n    matchLabels: {env: prod}\n  helm:\n    values:\n"
    "      size: 1600000\n",
}


async def test_hub_refuses_an_object_rendered_over_the_limit_for_one_cluster(
    tmp_path: Path,
) -> None:
    """Rendered per target on the hub: the prod render is too big, so nothing is stored."""
    async with running_hub(tmp_path / "hub") as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        spoke = start_spoke(
            hub=hub, name="prod-1", labels={"env": "prod"}, token=token, data_dir=tmp_path / "s"
        )
        try:
            await eventually(spoke.spoke.link.connected.is_set)
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await hub.stub.ApplyBundles(
                    fleet_pb2.ApplyBundlesRequest(bundles=[bundle_spec("fat", CHART_FILES)]),
                    timeout=60,
                )
            details = err.value.details() or ""
            assert "bundle fat for cluster prod-1: " in details, details
            assert "ConfigMap big is 1,600,0" in details and "1,572,864" in details, details
            listed = await hub.stub.ListBundles(fleet_pb2.ListBundlesRequest(), timeout=5)
            assert list(listed.bundles) == []
        finally:
            await spoke.stop()
