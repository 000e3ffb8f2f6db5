"""The vertical slice, end to end: a real hub, three spokes on simulated clusters, one loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
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

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
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
CONFIG = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  color: {color}
"""
LABELS = [{"env": "dev"}, {"env": "test"}, {"env": "prod"}]


def files(*, replicas: int = 2, color: str = "blue") -> dict[str, str]:
    return {
        "deployment.yaml": DEPLOYMENT.format(replicas=replicas),
        "service.yaml": SERVICE,
        "config.yaml": CONFIG.replace("{color}", color),
    }


async def new_token(hub: RunningHub) -> str:
    resp = await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)
    return resp.token


@pytest.fixture
async def fleet(tmp_path: Path) -> AsyncIterator[tuple[RunningHub, list[RunningSpoke]]]:
    async with running_hub(tmp_path / "hub") as hub:
        token = await new_token(hub)
        spokes = [
            start_spoke(
                hub=hub,
                name=f"c{i}",
                labels=labels,
                token=token,
                data_dir=tmp_path / f"spoke{i}",
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


async def apply_and_wait_ready(hub: RunningHub, name: str, bundle_files: dict[str, str]) -> str:
    resp = await hub.stub.ApplyBundles(
        fleet_pb2.ApplyBundlesRequest(bundles=[bundle_spec(name, bundle_files)]), timeout=10
    )
    revision = resp.bundles[0].revision

    async def ready() -> bool:
        b = await bundle_status(hub.stub, name)
        return b is not None and b.clusters_desired == 3 and b.clusters_ready == 3

    await eventually(ready, what=f"bundle {name} ready on 3 clusters")
    return revision


async def test_apply_reaches_every_cluster_and_becomes_ready(
    fleet: tuple[RunningHub, list[RunningSpoke]],
) -> None:
    hub, spokes = fleet
    await apply_and_wait_ready(hub, "web", files())
    for s in spokes:
        assert set(s.cluster.objects) >= {
            "apps/Deployment/default/web",
            "/Service/default/web",
            "/ConfigMap/default/settings",
        }
        assert s.cluster.objects["apps/Deployment/default/web"]["status"]["readyReplicas"] == 2
    status = await hub.stub.GetStatus(fleet_pb2.GetStatusRequest(), timeout=5)
    assert [(c.name, c.state, c.bundles_ready, c.bundles_desired) for c in status.clusters] == [
        ("c0", "Ready", 1, 1),
        ("c1", "Ready", 1, 1),
        ("c2", "Ready", 1, 1),
    ]
    default = next(g for g in status.groups if g.name == "default")
    assert (default.cluster_count, default.bundles_ready, default.bundles_desired) == (3, 3, 3)


async def test_changing_one_manifest_sends_only_that_resource(
    fleet: tuple[RunningHub, list[RunningSpoke]],
) -> None:
    hub, spokes = fleet
    first = await apply_and_wait_ready(hub, "web", files(color="blue"))
    before = [len(s.upserts()) for s in spokes]
    second = await apply_and_wait_ready(hub, "web", files(color="green"))
    assert second != first
    for s, n in zip(spokes, before, strict=True):
        new = s.upserts()[n:]
        assert len(new) == 1
        diff = new[0]
        assert diff.base_revision == s.upserts()[n - 1].revision
        assert [r.key for r in diff.upserts] == ["/ConfigMap//settings"]
        assert list(diff.removed) == []
        assert diff.resource_count == 3
        assert s.cluster.objects["/ConfigMap/default/settings"]["data"] == {"color": "green"}


async def test_removing_a_resource_prunes_it(
    fleet: tuple[RunningHub, list[RunningSpoke]],
) -> None:
    hub, spokes = fleet
    await apply_and_wait_ready(hub, "web", files())
    smaller = files()
    del smaller["service.yaml"]
    await apply_and_wait_ready(hub, "web", smaller)
    for s in spokes:
        assert list(s.upserts()[-1].removed) == ["/Service//web"]
        assert "/Service/default/web" not in s.cluster.objects


async def test_deleting_a_bundle_removes_its_objects_everywhere(
    fleet: tuple[RunningHub, list[RunningSpoke]],
) -> None:
    hub, spokes = fleet
    await apply_and_wait_ready(hub, "web", files())
    await hub.stub.DeleteBundle(fleet_pb2.DeleteBundleRequest(name="web"), timeout=5)
    await eventually(
        lambda: all(
            not any(k.endswith("/web") or k.endswith("/settings") for k in s.cluster.objects)
            for s in spokes
        ),
        what="objects gone",
    )
    assert await bundle_status(hub.stub, "web") is None


async def test_restarted_spoke_resumes_without_resend(
    fleet: tuple[RunningHub, list[RunningSpoke]], tmp_path: Path
) -> None:
    hub, spokes = fleet
    await apply_and_wait_ready(hub, "web", files())
    victim = spokes[0]
    await victim.stop()
    full_before = hub.hub.payloads.counters.full if hub.hub.payloads else -1
    token_unused = ""  # the stored credential is enough: the token is not needed again
    restarted = start_spoke(
        hub=hub,
        name="c0",
        labels=LABELS[0],
        token=token_unused,
        data_dir=tmp_path / "spoke0",
        cluster=victim.cluster,
    )
    spokes[0] = restarted
    await eventually(restarted.spoke.link.connected.is_set, what="reconnected")
    await eventually(
        lambda: restarted.spoke.reporter.reports_sent > 0, what="status after reconnect"
    )
    b = await bundle_status(hub.stub, "web")
    assert b is not None and b.clusters_ready == 3
    kinds = [m.WhichOneof("msg") for m in restarted.received]
    assert kinds == ["welcome"], f"expected nothing but the welcome, got {kinds}"
    assert hub.hub.payloads is not None and hub.hub.payloads.counters.full == full_before


async def test_hub_restart_keeps_bundles_clusters_and_tokens(tmp_path: Path) -> None:
    data = tmp_path / "hub"
    async with running_hub(data) as hub:
        token = await new_token(hub)
        spare = await new_token(hub)
        s = start_spoke(
            hub=hub, name="keep", labels={"env": "dev"}, token=token, data_dir=tmp_path / "s"
        )
        await eventually(s.spoke.link.connected.is_set)
        await hub.stub.ApplyBundles(
            fleet_pb2.ApplyBundlesRequest(bundles=[bundle_spec("web", files())]), timeout=10
        )
        await eventually(lambda: "/ConfigMap/default/settings" in s.cluster.objects)
        await s.stop()
    async with running_hub(data) as hub:
        bundles = await hub.stub.ListBundles(fleet_pb2.ListBundlesRequest(), timeout=5)
        assert [b.spec.name for b in bundles.bundles] == ["web"]
        clusters = await hub.stub.ListClusters(fleet_pb2.ListClustersRequest(), timeout=5)
        assert [(c.name, dict(c.labels)) for c in clusters.clusters] == [("keep", {"env": "dev"})]
        tokens = await hub.stub.ListTokens(fleet_pb2.ListTokensRequest(), timeout=5)
        assert len(tokens.tokens) == 2
        # The unused token still registers a cluster after the restart.
        resp = await hub.register(token=spare, name="late")
        assert resp.cluster_id and resp.certificate_pem and not resp.credential


async def test_wrong_token_is_unauthenticated_and_registers_nothing(tmp_path: Path) -> None:
    async with running_hub(tmp_path / "hub") as hub:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await hub.register(token="argosy-reg-t-0.nope", name="x")
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
        clusters = await hub.stub.ListClusters(fleet_pb2.ListClustersRequest(), timeout=5)
        assert list(clusters.clusters) == []


async def test_spokes_ride_out_a_hub_restart_without_full_resend(
    tmp_path: Path, hub_port: int
) -> None:
    data = tmp_path / "hub"
    async with running_hub(data, port=hub_port) as hub:
        token = await new_token(hub)
        spokes = [
            start_spoke(
                hub=hub, name=f"r{i}", labels=labels, token=token, data_dir=tmp_path / f"r{i}"
            )
            for i, labels in enumerate(LABELS)
        ]
        await apply_and_wait_ready(hub, "web", files())
    try:
        await eventually(
            lambda: not any(s.spoke.link.connected.is_set() for s in spokes), what="streams down"
        )
        seen = [len(s.received) for s in spokes]
        async with running_hub(data, port=hub_port) as hub:
            await eventually(
                lambda: all(s.spoke.link.streams_opened == 2 for s in spokes),
                timeout=20,
                what="every spoke reconnected",
            )
            b = await bundle_status(hub.stub, "web")
            assert b is not None
            await eventually(
                lambda: (
                    hub.hub.fleet is not None
                    and all(hub.hub.fleet.connected(c.id) for c in hub.hub.fleet.clusters())
                ),
            )
            for s, n in zip(spokes, seen, strict=True):
                kinds = [m.WhichOneof("msg") for m in s.received[n:]]
                assert kinds == ["welcome"], kinds

            async def ready() -> bool:
                b = await bundle_status(hub.stub, "web")
                return b is not None and b.clusters_ready == 3

            await eventually(ready, what="Ready again after the hub restart")
            # And it still ships changes as diffs.
            await apply_and_wait_ready(hub, "web", files(color="red"))
            for s in spokes:
                assert [r.key for r in s.upserts()[-1].upserts] == ["/ConfigMap//settings"]
    finally:
        for s in spokes:
            await s.stop()
