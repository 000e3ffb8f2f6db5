"""End to end: a real hub, one spoke on the real apiserver and one on a simulated cluster."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from pathlib import Path

import pytest

from argosy.api.v1 import fleet_pb2, spoke_pb2
from spoke.app import Settings as SpokeSettings
from spoke.app import Spoke
from spoke.backends.kube import ApiError, KubernetesBackend, KubeSettings
from tests.harness import (
    RunningHub,
    bundle_spec,
    bundle_status,
    eventually,
    running_hub,
    start_spoke,
)
from tests.k8s.conftest import ApiServer
from tests.k8s.kubeutil import make_pods_ready, merge_patch

pytestmark = [pytest.mark.k8s, pytest.mark.timeout(180)]

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 80}]
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
  color: blue
"""


async def test_one_bundle_on_a_real_and_a_simulated_cluster(
    apiserver: ApiServer, kube: KubernetesBackend, tmp_path: Path
) -> None:
    ns = f"e2e-{uuid.uuid4().hex[:6]}"
    async with running_hub(tmp_path / "hub") as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        real = Spoke(
            SpokeSettings(
                hub=hub.address,
                name="real",
                labels={"env": "dev"},
                token=token,
                data_dir=tmp_path / "real",
                report_window=0.02,
                ca=hub.ca_path,
                insecure=hub.insecure,
            ),
            backend=KubernetesBackend(KubeSettings(kubeconfig=str(apiserver.kubeconfig))),
        )
        real_task = asyncio.create_task(real.run(), name="spoke-real")
        sim = start_spoke(
            hub=hub, name="sim", labels={"env": "dev"}, token=token, data_dir=tmp_path / "sim"
        )
        try:
            await eventually(
                lambda: real.link.connected.is_set() and sim.spoke.link.connected.is_set(),
                what="both spokes connected",
            )
            files = {
                "fleet.yaml": f"defaultNamespace: {ns}\n",
                "deployment.yaml": DEPLOYMENT,
                "service.yaml": SERVICE,
                "config.yaml": CONFIG,
            }
            await hub.stub.ApplyBundles(
                fleet_pb2.ApplyBundlesRequest(bundles=[bundle_spec("web", files)]), timeout=10
            )

            async def both_ready() -> bool:
                await make_pods_ready(kube, ns, "app=web")  # the kubelet's part
                b = await bundle_status(hub.stub, "web")
                return b is not None and (b.clusters_ready, b.clusters_desired) == (2, 2)

            await eventually(both_ready, timeout=60, interval=0.3, what="ready on both")
            live = await kube.request("GET", f"/apis/apps/v1/namespaces/{ns}/deployments/web")
            assert live["status"]["availableReplicas"] == 2

            await merge_patch(
                kube,
                f"/api/v1/namespaces/{ns}/configmaps/settings",
                {"data": {"color": "red"}},
            )

            async def summary() -> str:
                b = await bundle_status(hub.stub, "web")
                return b.summary if b is not None else ""

            async def modified_on_real() -> bool:
                return "Modified: 1 (real)" in await summary()

            await eventually(modified_on_real, timeout=5, what="Modified: 1 (real)")
            b = await bundle_status(hub.stub, "web")
            assert b is not None and b.clusters_ready == 1

            # Restart the real spoke: it keeps its inventory, the hub resends nothing, and
            # nothing is re-applied (the edit stays visible: correctDrift is off).
            real_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await real_task
            received: list[spoke_pb2.ConnectResponse] = []
            backend = KubernetesBackend(KubeSettings(kubeconfig=str(apiserver.kubeconfig)))
            real = Spoke(
                SpokeSettings(
                    hub=hub.address,
                    name="real",
                    data_dir=tmp_path / "real",
                    report_window=0.02,
                    ca=hub.ca_path,
                    insecure=hub.insecure,
                ),
                backend=backend,
                on_message=received.append,
            )
            real_task = asyncio.create_task(real.run(), name="spoke-real-again")
            await eventually(real.link.connected.is_set, what="reconnected")
            await eventually(lambda: backend.watch_events >= 3, what="initial listing")
            await eventually(lambda: real.reporter.reports_sent > 0, what="status reported")
            await eventually(modified_on_real, timeout=5, what="still Modified: 1 (real)")
            assert [m.WhichOneof("msg") for m in received if m.WhichOneof("msg") == "upsert"] == []
            assert backend.apply_calls == 0
        finally:
            await sim.stop()
            real_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await real_task


async def test_credential_in_a_secret_keeps_a_new_agent_pod_registered(
    apiserver: ApiServer, kube: KubernetesBackend, tmp_path: Path
) -> None:
    secret = f"default/cred-{uuid.uuid4().hex[:6]}"

    def agent(data_dir: Path, token: str, hub: RunningHub) -> Spoke:
        return Spoke(
            SpokeSettings(
                hub=hub.address,
                name="edge",
                token=token,
                data_dir=data_dir,
                credential_secret=secret,
                report_window=0.02,
                ca=hub.ca_path,
                insecure=hub.insecure,
            ),
            backend=KubernetesBackend(KubeSettings(kubeconfig=str(apiserver.kubeconfig))),
        )

    async with running_hub(tmp_path / "hub") as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        first = agent(tmp_path / "pod1", token, hub)
        task = asyncio.create_task(first.run(), name="agent-1")
        try:
            await eventually(first.link.connected.is_set, what="first pod connected")
            path = f"/api/v1/namespaces/default/secrets/{secret.split('/')[1]}"

            async def secret_written() -> bool:
                try:
                    data = (await kube.request("GET", path)).get("data") or {}
                except ApiError:
                    return False
                return set(data) == {"credential.json"}

            await eventually(secret_written, what="credential Secret written")
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

        # A new pod: empty data dir, and no token (it was single-use, or has expired).
        second = agent(tmp_path / "pod2", "", hub)
        task = asyncio.create_task(second.run(), name="agent-2")
        try:
            await eventually(second.link.connected.is_set, what="new pod connected")
            clusters = await hub.stub.ListClusters(fleet_pb2.ListClustersRequest(), timeout=5)
            assert [c.name for c in clusters.clusters] == ["edge"]
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
