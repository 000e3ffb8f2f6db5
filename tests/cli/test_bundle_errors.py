"""Bad bundles as a user meets them: exit 1, a message naming file and fault, nothing stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_cli import argosy, bundles
from tests.harness import running_hub

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


CASES = {
    "fleet.yaml typo": (
        {"fleet.yaml": "defaultNamespace: x\nnamespce: y\n", "cm.yaml": CM},
        ["fleet.yaml:2", "namespce"],
    ),
    "namespace with a ClusterRole": (
        {
            "fleet.yaml": "namespace: apps\n",
            "role.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
            "metadata: {name: r}\nrules: []\n",
        },
        ["role.yaml", "ClusterRole", "cluster-scoped"],
    ),
    "broken chart template": (
        {
            "fleet.yaml": "helm:\n  chart: ./chart\n",
            "chart/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
            "chart/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
            "  name: {{ .Values.name | nosuchfunction }}\n",
        },
        ["templates/cm.yaml", "nosuchfunction"],
    ),
    "missing kustomize dir": (
        {"fleet.yaml": "kustomize:\n  dir: overlays/nope\n", "cm.yaml": CM},
        ["fleet.yaml", "overlays/nope", "does not exist"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_bad_bundle_is_refused_with_a_clear_message(tmp_path: Path, case: str) -> None:
    files, expected = CASES[case]
    bundle_dir = write(tmp_path / "bundle", files)
    async with running_hub(tmp_path / "hub") as hub:
        code, out, err = await argosy(hub, "apply", str(bundle_dir))
        assert code == 1, (out, err)
        for fragment in expected:
            assert fragment in err, f"{case}: {fragment!r} not in {err!r}"
        assert await bundles(hub) == []
