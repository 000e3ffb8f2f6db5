"""Cluster groups and `argosy target`, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from argosy.api.v1 import fleet_pb2
from tests.cli.test_cli import argosy
from tests.harness import running_hub

FLEET_YAML = """\
targets:
- name: prod-only
  clusterGroup: prod
targetCustomizations:
- name: big
  clusterSelector: {matchLabels: {size: big}}
  yaml: {overlays: [big]}
"""


async def test_groups_select_clusters_and_target_reports_customizations(tmp_path: Path) -> None:
    bundle = tmp_path / "app"
    (bundle / "overlays" / "big").mkdir(parents=True)
    (bundle / "fleet.yaml").write_text(FLEET_YAML)
    (bundle / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    (bundle / "overlays" / "big" / "cm_patch.yaml").write_text("data: {size: big}\n")
    async with running_hub(tmp_path / "hub") as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        for name, labels in [
            ("p1", {"env": "prod", "size": "big"}),
            ("p2", {"env": "prod"}),
            ("d1", {"env": "dev"}),
        ]:
            await hub.register(token=token, name=name, labels=labels)
        code, out, err = await argosy(hub, "group", "create", "prod", "--selector", "env=prod")
        assert code == 0, err
        code, out, _ = await argosy(hub, "target", str(bundle), "-o", "json")
        assert code == 0
        rows = json.loads(out)
        # d1 is not in group prod, so the bundle does not reach it.
        assert [(r["cluster"], r["customizations"]) for r in rows] == [("p1", ["big"]), ("p2", [])]
        code, out, _ = await argosy(hub, "apply", str(bundle), "--name", "app")
        assert code == 0
        code, out, _ = await argosy(hub, "status", "-o", "json")
        doc = json.loads(out)
        groups = {g["name"]: g for g in doc["groups"]}
        assert groups["prod"]["clusterCount"] == 2 and groups["default"]["clusterCount"] == 3
        assert groups["prod"]["bundlesDesired"] == 2
        assert doc["bundles"][0]["clustersDesired"] == 2
        code, _, err = await argosy(hub, "group", "delete", "default")
        assert code == 1 and "built in" in err
