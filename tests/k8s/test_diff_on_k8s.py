"""`argosy bundle diff` on a real apiserver: an object edited through the API shows its path,
and the printed comparePatches, put into fleet.yaml and applied again, make the bundle Ready
(#15)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from pathlib import Path

import pytest
import yaml

from argosy.api.v1 import fleet_pb2
from spoke.app import Settings as SpokeSettings
from spoke.app import Spoke
from spoke.backends.kube import KubernetesBackend, KubeSettings
from tests.cli.test_cli import argosy
from tests.harness import bundle_status, eventually, running_hub
from tests.k8s.conftest import ApiServer
from tests.k8s.kubeutil import merge_patch

pytestmark = [pytest.mark.k8s, pytest.mark.timeout(180)]

CONFIG = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  color: blue
  size: small
"""


async def test_bundle_diff_names_an_api_edit_and_its_compare_patches_make_it_ready(
    apiserver: ApiServer, kube: KubernetesBackend, tmp_path: Path
) -> None:
    ns = f"diff-{uuid.uuid4().hex[:6]}"
    app = tmp_path / "app"
    app.mkdir()
    (app / "fleet.yaml").write_text(f"defaultNamespace: {ns}\n")
    (app / "config.yaml").write_text(CONFIG)
    path = f"/api/v1/namespaces/{ns}/configmaps/settings"
    async with running_hub(tmp_path / "hub") as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        real = Spoke(
            SpokeSettings(
                hub=hub.address,
                name="real",
                token=token,
                data_dir=tmp_path / "real",
                report_window=0.02,
                ca=hub.ca_path,
                insecure=hub.insecure,
            ),
            backend=KubernetesBackend(KubeSettings(kubeconfig=str(apiserver.kubeconfig))),
        )
        task = asyncio.create_task(real.run(), name="spoke-real")
        try:
            await eventually(real.link.connected.is_set, what="spoke connected")
            code, out, err = await argosy(hub, "apply", str(app), "--wait", "--timeout", "60s")
            assert code == 0, (out, err)

            await merge_patch(kube, path, {"data": {"color": "red"}})

            async def modified() -> bool:
                b = await bundle_status(hub.stub, "app")
                return b is not None and b.state == "Modified"

            await eventually(modified, timeout=10, what="Modified")
            code, out, err = await argosy(hub, "bundle", "diff", "app")
            assert code == 0, err
            assert f"configmap {ns}/settings: /data/color" in out, out
            assert "-  color: blue" in out and "+  color: red" in out

            code, patches, err = await argosy(hub, "bundle", "diff", "app", "--fleet-yaml")
            assert code == 0, err
            assert yaml.safe_load(patches)["diff"]["comparePatches"] == [
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "name": "settings",
                    "namespace": ns,
                    "operations": [{"op": "remove", "path": "/data/color"}],
                }
            ]
            (app / "fleet.yaml").write_text(f"defaultNamespace: {ns}\n{patches}")
            code, out, err = await argosy(hub, "apply", str(app), "--wait", "--timeout", "60s")
            assert code == 0, (out, err)
            # Re-applied without a conflict: the edited field is left to the manager that
            # took it (server-side apply), the others are the bundle's.
            live = await kube.request("GET", path)
            assert live["data"] == {"color": "red", "size": "small"}

            # The silenced path edited again, and another: only the other one is drift.
            await merge_patch(kube, path, {"data": {"color": "green", "size": "large"}})
            await eventually(modified, timeout=10, what="Modified by the other path")
            code, out, err = await argosy(hub, "bundle", "diff", "app", "-o", "json")
            assert code == 0, err
            [cluster] = json.loads(out)
            assert [r["paths"] for r in cluster["resources"]] == [["/data/size"]]
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 80}]
"""
STRATEGIC = "application/strategic-merge-patch+json"


async def test_a_list_item_field_taken_by_another_manager_is_left_to_it(
    apiserver: ApiServer, kube: KubernetesBackend, tmp_path: Path
) -> None:
    """A field inside a list item keyed by several keys (a Service port: port and protocol):
    the path `bundle diff` prints, and the conflict the re-apply meets there, both resolve."""
    ns = f"diff-{uuid.uuid4().hex[:6]}"
    app = tmp_path / "app"
    app.mkdir()
    (app / "fleet.yaml").write_text(f"defaultNamespace: {ns}\n")
    (app / "service.yaml").write_text(SERVICE)
    path = f"/api/v1/namespaces/{ns}/services/web"
    async with running_hub(tmp_path / "hub") as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        real = Spoke(
            SpokeSettings(
                hub=hub.address,
                name="real",
                token=token,
                data_dir=tmp_path / "real",
                report_window=0.02,
                ca=hub.ca_path,
                insecure=hub.insecure,
            ),
            backend=KubernetesBackend(KubeSettings(kubeconfig=str(apiserver.kubeconfig))),
        )
        task = asyncio.create_task(real.run(), name="spoke-real")
        try:
            await eventually(real.link.connected.is_set, what="spoke connected")
            code, out, err = await argosy(hub, "apply", str(app), "--wait", "--timeout", "60s")
            assert code == 0, (out, err)
            await kube.request(
                "PATCH",
                path,
                body={"spec": {"ports": [{"port": 80, "targetPort": 8080}]}},
                content_type=STRATEGIC,
            )

            async def modified() -> bool:
                b = await bundle_status(hub.stub, "app")
                return b is not None and b.state == "Modified"

            await eventually(modified, timeout=10, what="Modified")
            code, patches, err = await argosy(hub, "bundle", "diff", "app", "--fleet-yaml")
            assert code == 0, err
            [patch] = yaml.safe_load(patches)["diff"]["comparePatches"]
            assert patch["operations"] == [{"op": "remove", "path": "/spec/ports/0/targetPort"}]
            (app / "fleet.yaml").write_text(f"defaultNamespace: {ns}\n{patches}")
            code, out, err = await argosy(hub, "apply", str(app), "--wait", "--timeout", "60s")
            assert code == 0, (out, err)
            live = await kube.request("GET", path)
            assert live["spec"]["ports"][0]["targetPort"] == 8080
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
