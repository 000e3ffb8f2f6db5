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
    # No cluster matches env=prod yet: the chart must be rendered at apply all the same.
    "broken chart targeting no cluster yet": (
        {
            "fleet.yaml": "helm:\n  chart: ./chart\n"
            "targets:\n- clusterSelector:\n    matchLabels: {env: prod}\n",
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


def configmap(name: str, size: int = 0) -> str:
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: default}}\n"
        f"data: {{blob: '{'x' * size}'}}\n"
    )


async def test_apply_names_every_bad_file_and_stores_nothing(tmp_path: Path) -> None:
    big = write(
        tmp_path / "big",
        {
            "broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n",
            "cm.yaml": configmap("huge", 10 * 2**20),
            "nokind.yaml": "apiVersion: v1\nmetadata: {name: b}\n",
            "ok.yaml": configmap("fine"),
        },
    )
    async with running_hub(tmp_path / "hub") as hub:
        code, out, err = await argosy(hub, "apply", str(big))
        assert code == 1, (out, err)
        assert f"{big}/broken.yaml:5: invalid YAML" in err, err
        assert f"{big}/nokind.yaml:1: missing or empty 'kind'" in err, err
        assert (
            f"{big}/cm.yaml:1: ConfigMap default/huge is 10,485,8" in err
            and "bytes; the Kubernetes API server takes at most 1,572,864 per object" in err
        ), err
        assert "Traceback" not in err
        assert await bundles(hub) == []


async def test_apply_names_every_bad_bundle_and_stores_nothing(tmp_path: Path) -> None:
    root = write(
        tmp_path / "apps",
        {
            "one/cm.yaml": "apiVersion: v1\nmetadata: {name: a}\n",
            "two/fleet.yaml": "namespce: x\n",
            "two/cm.yaml": configmap("b"),
            "three/cm.yaml": configmap("c"),
        },
    )
    async with running_hub(tmp_path / "hub") as hub:
        code, out, err = await argosy(hub, "apply", str(root))
        assert code == 1, (out, err)
        assert f"{root}/one/cm.yaml:1: missing or empty 'kind'" in err, err
        assert "two/fleet.yaml:1: unknown key 'namespce'" in err, err
        assert await bundles(hub) == []
