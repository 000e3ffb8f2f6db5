"""`argosy render`: rendered locally for the cluster the flags describe; no hub is called."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.cli.fakes import FakeHub, run

FLEET_YAML = """\
targets:
- clusterGroup: prod
targetCustomizations:
- name: big
  clusterSelector: {matchLabels: {size: big}}
  yaml: {overlays: [big]}
"""


def bundle(root: Path) -> Path:
    (root / "overlays" / "big").mkdir(parents=True)
    (root / "fleet.yaml").write_text(FLEET_YAML)
    (root / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\n"
    )
    (root / "overlays" / "big" / "cm_patch.yaml").write_text("data: {size: big}\n")
    return root


async def test_render_applies_the_customization_the_labels_select(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = bundle(tmp_path / "app")
    hub = FakeHub()
    await run(
        hub, "render", str(app), "-l", "size=big", "--group", "prod=env=prod", "-l", "env=prod"
    )
    (doc,) = yaml.safe_load_all(capsys.readouterr().out)
    assert doc["kind"] == "ConfigMap" and doc["data"] == {"size": "big"}
    assert hub.opened == 0


async def test_a_cluster_outside_the_targets_gets_nothing_and_is_told(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = bundle(tmp_path / "app")
    await run(FakeHub(), "render", str(app), "--group", "prod=env=prod", "-l", "env=dev")
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "# bundle app: not deployed to this cluster\n"
