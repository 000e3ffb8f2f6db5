"""Reading bundle dirs as Fleet does, and per-cluster value templates run by Helm."""

from __future__ import annotations

from pathlib import Path

from argosy.bundle import Cluster, load_bundle, read_bundle_dirs, render, target_for
from argosy.bundle.reader import BundleSource

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {}\n"


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_fleet_yaml_dirs_nested_bundles_plain_dirs_and_fleetignore(tmp_path: Path) -> None:
    _write(
        tmp_path / "repo",
        {
            "app/fleet.yaml": "name: my-app\n",
            "app/README.md": "not yaml",
            "app/sub/cm.yaml": CM.format("a"),
            "app/skip.yaml": CM.format("skipped"),
            "app/.fleetignore": "skip.yaml\n",
            "app/inner/fleet.yaml": "{}\n",
            "app/inner/cm.yaml": CM.format("inner"),
            "plain/cm.yaml": CM.format("plain"),
            "plain/deeper/cm.yaml": CM.format("deeper"),
        },
    )
    sources = {s.name: s for s in read_bundle_dirs([tmp_path / "repo"])}
    assert set(sources) == {"my-app", "repo-app-inner", "repo-plain", "repo-plain-deeper"}
    assert set(sources["my-app"].files) == {"fleet.yaml", "README.md", "sub/cm.yaml"}
    assert set(sources["repo-app-inner"].files) == {"fleet.yaml", "cm.yaml"}
    assert set(sources["repo-plain"].files) == {"cm.yaml"}


def test_revision_ignores_formatting_without_fleet_yaml() -> None:
    a = load_bundle(BundleSource("b", {"cm.yaml": CM.format("x").encode()}))
    b = load_bundle(BundleSource("b", {"cm.yaml": b"# hi\n" + CM.format("x").encode()}))
    assert a.revision == b.revision


def test_non_kubernetes_yaml_is_never_a_manifest() -> None:
    files = {
        "fleet.yaml": b"helm:\n  valuesFiles: [vals.yaml]\n",
        "Chart.yaml": b"apiVersion: v2\nname: c\nversion: 0.1.0\n",
        "vals.yaml": b"a: 1\n",
        "templates/cm.yaml": CM.format("{{ .Values.a }}").encode(),
    }
    bundle = load_bundle(BundleSource("b", files))
    assert bundle.style == "helm"
    assert bundle.options.helm is not None
    assert bundle.options.helm.values == {"a": 1}


async def test_cluster_templated_values_rendered_by_helm() -> None:
    fleet = (
        "namespace: apps\n"
        "helm:\n  values:\n"
        "    name: ${ .ClusterName }-${ .ClusterLabels.env | upper }\n"
        "    region: global.fleet.clusterLabels.region\n"
    )
    template = (
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name | lower }}\n"
        b"data:\n  region: {{ .Values.region | quote }}\n"
    )
    files = {
        "fleet.yaml": fleet.encode(),
        "Chart.yaml": b"apiVersion: v2\nname: c\nversion: 0.1.0\n",
        "templates/cm.yaml": template,
    }
    bundle = load_bundle(BundleSource("b", files))
    target = target_for(bundle, Cluster("east", {"env": "prod", "region": "us"}), {})
    assert target is not None
    rendered = await render(bundle, target)
    [obj] = [m.obj for m in rendered.items.values()]
    assert obj["metadata"] == {"name": "east-prod", "namespace": "apps"}
    assert obj["data"] == {"region": "us"}


def test_links_out_of_the_bundle_dir_are_not_read(tmp_path: Path) -> None:
    _write(tmp_path, {"secret.yaml": "hub: private\n", "outside/cm.yaml": CM.format("o")})
    repo = tmp_path / "repo"
    _write(repo, {"app/fleet.yaml": "name: app\n", "app/cm.yaml": CM.format("a")})
    (repo / "app" / "stolen.yaml").symlink_to(tmp_path / "secret.yaml")
    (repo / "app" / "dir").symlink_to(tmp_path / "outside")
    (repo / "app" / "inside.yaml").symlink_to(repo / "app" / "cm.yaml")
    [source] = read_bundle_dirs([repo])
    assert sorted(source.files) == ["cm.yaml", "fleet.yaml", "inside.yaml"]
