"""`argosy apply --dry-run`, `argosy bundle diff [--fleet-yaml]`, `argosy apply --wait` and
`argosy status --wait-for Ready`, through the CLI, against a hub and simulated spokes (#15)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from argosy.api.v1 import fleet_pb2
from spoke.backends.simulated import SimulatedCluster, SimulationSettings
from tests.cli.test_cli import argosy
from tests.harness import (
    RunningHub,
    RunningSpoke,
    bundle_spec,
    bundle_status,
    eventually,
    running_hub,
    start_spoke,
)
from tests.integration.test_render_errors import FILES, MISSING

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{v: '{v}'}}\n"
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
"""
DEV_ONLY = "targets:\n- clusterSelector: {matchLabels: {env: dev}}\n"


def write(path: Path, files: dict[str, str]) -> Path:
    path.mkdir(exist_ok=True)
    for old in path.iterdir():
        old.unlink()
    for name, text in files.items():
        (path / name).write_text(text)
    return path


@pytest.fixture
async def fleet(tmp_path: Path) -> AsyncIterator[tuple[RunningHub, dict[str, RunningSpoke]]]:
    async with running_hub(tmp_path / "hub") as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        spokes = {
            name: start_spoke(
                hub=hub,
                name=name,
                labels={"env": env},
                token=token,
                data_dir=tmp_path / name,
                # Objects named "boom" fail to apply on c2; workloads on c2 are never ready.
                cluster=SimulatedCluster(
                    SimulationSettings(
                        fail_pattern="^boom$" if name == "c2" else "",
                        ready_delay=3600 if name == "c2" else 0.05,
                    ),
                    name=name,
                ),
            )
            for name, env in (("c0", "dev"), ("c1", "dev"), ("c2", "prod"))
        }
        await eventually(
            lambda: all(s.spoke.link.connected.is_set() for s in spokes.values()),
            what="spokes connected",
        )
        try:
            yield hub, spokes
        finally:
            for s in spokes.values():
                await s.stop()


async def test_dry_run_shows_changes_per_group_of_clusters_and_stores_nothing(
    tmp_path: Path, fleet: tuple[RunningHub, dict[str, RunningSpoke]]
) -> None:
    hub, spokes = fleet
    app = write(
        tmp_path / "app",
        {
            "fleet.yaml": DEV_ONLY,
            "a.yaml": CM.format(name="a", v="1"),
            "b.yaml": CM.format(name="b", v="1"),
            "gone.yaml": CM.format(name="gone", v="1"),
        },
    )
    code, out, err = await argosy(hub, "apply", str(app), "--wait", "--timeout", "30s")
    assert code == 0, err
    before = await bundle_status(hub.stub, "app")
    assert before is not None and before.clusters_desired == 2
    sent = {n: len(s.upserts()) for n, s in spokes.items()}

    # v2 reaches every cluster: the dev clusters change, prod gets everything.
    write(app, {"a.yaml": CM.format(name="a", v="2"), "b.yaml": CM.format(name="b", v="1")})
    (app / "new.yaml").write_text(CM.format(name="new", v="1"))
    code, out, err = await argosy(hub, "apply", str(app), "--dry-run", "-o", "json")
    assert code == 0, err
    [doc] = json.loads(out)
    assert doc["dryRun"] and doc["changed"]
    groups = {tuple(p["clusters"]): p for p in doc["planned"]}
    assert set(groups) == {("c0", "c1"), ("c2",)}
    dev, prod = groups[("c0", "c1")], groups[("c2",)]
    assert dev["added"] == ["/ConfigMap/default/new"] or dev["added"] == ["/ConfigMap//new"]
    assert [k.rsplit("/", 1)[1] for k in dev["changed"]] == ["a"]
    assert [k.rsplit("/", 1)[1] for k in dev["removed"]] == ["gone"]
    assert "-  v: '1'\n+  v: '2'\n" in dev["diff"]
    assert dev["heldRevision"] and dev["heldRevision"] != dev["revision"]
    assert sorted(k.rsplit("/", 1)[1] for k in prod["added"]) == ["a", "b", "new"]
    assert prod["heldRevision"] == "" and not prod["changed"] and not prod["removed"]

    code, text, err = await argosy(hub, "apply", str(app), "--dry-run")
    assert code == 0, err
    assert "dry run: nothing stored" in text
    assert "clusters (2): c0, c1" in text and "clusters (1): c2" in text
    assert "~ configmap a" in text and "- configmap gone" in text and "+ configmap new" in text

    # Nothing stored, nothing sent: same revision, same deployments, no upserts.
    got = await hub.stub.GetBundle(fleet_pb2.GetBundleRequest(name="app"), timeout=5)
    after = await bundle_status(hub.stub, "app")
    assert got.bundle.revision == before.revision
    assert after is not None and after.clusters_desired == 2 and after.state == "Ready"
    assert {n: len(s.upserts()) for n, s in spokes.items()} == sent
    assert "/ConfigMap/default/new" not in spokes["c0"].cluster.objects


async def test_bundle_diff_shows_drift_and_its_compare_patches_silence_it(
    tmp_path: Path, fleet: tuple[RunningHub, dict[str, RunningSpoke]]
) -> None:
    hub, spokes = fleet
    two = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {v: '1', w: '1'}\n"
    app = write(tmp_path / "app", {"fleet.yaml": DEV_ONLY, "a.yaml": two})
    assert (await argosy(hub, "apply", str(app), "--wait", "--timeout", "30s"))[0] == 0
    code, out, _ = await argosy(hub, "bundle", "diff", "app")
    assert code == 0 and "no cluster reports drift" in out

    spokes["c1"].cluster.inject_drift("/ConfigMap/default/a", {"data": {"v": "edited"}})

    async def modified() -> bool:
        b = await bundle_status(hub.stub, "app")
        return b is not None and b.state == "Modified"

    await eventually(modified, what="Modified")
    code, out, err = await argosy(hub, "bundle", "diff", "app")
    assert code == 0, err
    assert "cluster c1: Modified" in out and "configmap default/a: /data/v" in out
    assert "-  v: '1'" in out and "+  v: edited" in out
    assert "c0" not in out
    code, out, _ = await argosy(hub, "bundle", "diff", "app", "--cluster", "c0")
    assert code == 0 and "cluster c0: Ready" in out and "no drift" in out
    code, _, err = await argosy(hub, "bundle", "diff", "app", "--cluster", "c2")
    assert code == 1 and "does not target cluster 'c2'" in err
    code, _, err = await argosy(hub, "bundle", "diff", "nope")
    assert code == 1 and "not found" in err

    code, out, err = await argosy(hub, "bundle", "diff", "app", "--fleet-yaml")
    assert code == 0, err
    patch = yaml.safe_load(out)
    assert patch == {
        "diff": {
            "comparePatches": [
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "name": "a",
                    "namespace": "default",
                    "operations": [{"op": "remove", "path": "/data/v"}],
                }
            ]
        }
    }
    # Into fleet.yaml and applied again: the edit no longer counts, the bundle is Ready.
    (app / "fleet.yaml").write_text(DEV_ONLY + out)
    code, out, err = await argosy(hub, "apply", str(app), "--wait", "--timeout", "30s")
    assert code == 0, err
    assert "2/2 ready, Ready" in out
    # An edit of that path and another: only the other one is drift now.
    spokes["c1"].cluster.inject_drift("/ConfigMap/default/a", {"data": {"v": "x", "w": "x"}})
    await eventually(modified, what="Modified again")
    code, out, err = await argosy(hub, "bundle", "diff", "app", "-o", "json")
    assert code == 0, err
    [c1] = json.loads(out)
    assert c1["cluster"] == "c1" and [r["paths"] for r in c1["resources"]] == [["/data/w"]]
    # The block printed now keeps the path fleet.yaml silences already: it replaces it.
    code, out, err = await argosy(hub, "bundle", "diff", "app", "--fleet-yaml")
    assert code == 0, err
    [entry] = yaml.safe_load(out)["diff"]["comparePatches"]
    assert [op["path"] for op in entry["operations"]] == ["/data/v", "/data/w"]


async def test_wait_fails_fast_naming_the_cluster_whose_apply_failed(
    tmp_path: Path, fleet: tuple[RunningHub, dict[str, RunningSpoke]]
) -> None:
    hub, _ = fleet
    app = write(tmp_path / "app", {"boom.yaml": CM.format(name="boom", v="1")})
    code, out, err = await argosy(hub, "apply", str(app), "--wait", "--timeout", "60s")
    assert code == 1, (out, err)
    assert "failed: bundle/app not Ready" in err
    assert "bundle/app: c2: ErrApplied: " in err and "injected failure" in err
    assert "c0" not in err and "c1" not in err
    # Without a terminal: plain lines, no escape codes.
    assert "\x1b" not in out and "bundle/app configured" in out
    # The same content again retries c2: its ErrApplied is the old failure until the retry
    # reports, so the wait does not fail on it; it fails again, so the wait times out.
    code, out, err = await argosy(hub, "apply", str(app), "--wait", "--timeout", "2s")
    assert code == 1 and "bundle/app unchanged" in out, (out, err)
    assert "timed out after 2s: bundle/app not Ready" in err
    assert "bundle/app: c2: ErrApplied: " in err and "injected failure" in err


async def test_wait_times_out_naming_the_clusters_not_ready(
    tmp_path: Path, fleet: tuple[RunningHub, dict[str, RunningSpoke]]
) -> None:
    hub, _ = fleet
    app = write(tmp_path / "app", {"web.yaml": DEPLOYMENT})
    code, out, err = await argosy(hub, "apply", str(app), "--wait", "--timeout", "3s")
    assert code == 1, (out, err)
    assert "timed out after 3s: bundle/app not Ready" in err
    assert "bundle/app: c2: NotReady" in err
    assert "/3 ready" in out
    # status --wait-for: the same wait for a bundle already applied.
    code, _, err = await argosy(hub, "status", "--wait-for", "Ready", "app", "--timeout", "1s")
    assert code == 1 and "c2: NotReady" in err
    code, _, err = await argosy(hub, "status", "--wait-for", "Ready", "nope")
    assert code == 1 and "not found" in err


async def test_status_wait_for_ready_returns_once_every_cluster_is_ready(
    tmp_path: Path, fleet: tuple[RunningHub, dict[str, RunningSpoke]]
) -> None:
    hub, _ = fleet
    app = write(tmp_path / "app", {"fleet.yaml": DEV_ONLY, "web.yaml": DEPLOYMENT})
    assert (await argosy(hub, "apply", str(app)))[0] == 0
    code, out, err = await argosy(hub, "status", "--wait-for", "Ready", "app", "--timeout", "30s")
    assert code == 0, err
    assert out.splitlines()[-1] == "bundle/app: 2/2 ready, Ready"


async def test_dry_run_of_a_new_bundle_shows_render_errors_per_cluster_and_creates_nothing(
    tmp_path: Path,
) -> None:
    async with running_hub(tmp_path / "hub") as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        spokes = [
            start_spoke(hub=hub, name=n, labels=labels, token=token, data_dir=tmp_path / n)
            for n, labels in (("eu1", {"region": "eu"}), ("eu2", {"region": "eu"}), ("bare", {}))
        ]
        try:
            await eventually(
                lambda: all(s.spoke.link.connected.is_set() for s in spokes), what="connected"
            )
            resp = await hub.stub.ApplyBundles(
                fleet_pb2.ApplyBundlesRequest(bundles=[bundle_spec("web", FILES)], dry_run=True),
                timeout=60,
            )
            [applied] = resp.bundles
            groups = {tuple(p.clusters): p for p in applied.planned}
            assert set(groups) == {("eu1", "eu2"), ("bare",)}
            assert groups[("bare",)].error == MISSING and not groups[("bare",)].added
            eu = groups[("eu1", "eu2")]
            assert [k.split("/")[1] for k in eu.added] == ["ConfigMap"] and not eu.held_revision
            listed = await hub.stub.ListBundles(fleet_pb2.ListBundlesRequest(), timeout=5)
            assert list(listed.bundles) == []
            assert await bundle_status(hub.stub, "web") is None
            assert all(s.upserts() == [] for s in spokes)
        finally:
            for s in spokes:
                await s.stop()
