"""What kind of bundle a file set is, for given options: raw YAML, Helm chart, Kustomize (pure).

Fleet decides per target (a customization may switch kustomize.dir or helm.chart): the bundle is
a Helm chart when `<helm.chart>/Chart.yaml` exists, when helm.chart is a `.tgz` in the bundle,
or when it is a remote chart (helm.repo, oci://, an https:// URL: see charts.py), a Kustomize
bundle when
`<kustomize.dir>/kustomization.yaml` exists (both may hold: the chart is rendered, then
kustomized), and raw YAML otherwise. Only raw-YAML files are ever parsed as manifests; charts,
kustomizations, values files and overlays never are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from posixpath import dirname, normpath

from argosy.bundle.charts import ChartRef, remote_chart
from argosy.bundle.fleetyaml import FLEET_YAML, DeploymentOptions
from argosy.bundle.overlays import OVERLAYS

CHART_YAML = "Chart.yaml"
KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml", "Kustomization")
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class Style:
    """chart_dir / kustomize_dir are bundle-relative ("" is the bundle root), None if unused.

    chart_dir may name a `.tgz` in the bundle (Helm reads archives as it reads directories);
    remote_chart is set, with chart_dir "", when the chart is fetched from outside the bundle.
    """

    chart_dir: str | None = None
    kustomize_dir: str | None = None
    remote_chart: ChartRef | None = None

    @property
    def raw(self) -> bool:
        return self.chart_dir is None and self.kustomize_dir is None

    def __str__(self) -> str:
        parts = ["helm"] * (self.chart_dir is not None) + ["kustomize"] * (
            self.kustomize_dir is not None
        )
        return "+".join(parts) or "raw YAML"


def clean_dir(path: str) -> str:
    """A bundle-relative directory: no leading './' or '/', '' for the root."""
    cleaned = normpath(path.strip().lstrip("/")) if path.strip() else "."
    return "" if cleaned == "." else cleaned


def join(directory: str, name: str) -> str:
    return f"{directory}/{name}" if directory else name


def kustomization_in(files: Iterable[str], directory: str) -> str | None:
    names = set(files)
    return next((join(directory, k) for k in KUSTOMIZATIONS if join(directory, k) in names), None)


def style_of(files: Iterable[str], options: DeploymentOptions) -> Style:
    names = set(files)
    helm = options.helm
    remote = remote_chart(helm.repo, helm.chart, helm.version) if helm else None
    chart = clean_dir(helm.chart) if helm and remote is None else ""
    kdir = clean_dir(options.kustomize.dir) if options.kustomize else ""
    local = join(chart, CHART_YAML) in names or (is_archive(chart) and chart in names)
    return Style(
        chart_dir="" if remote else chart if local else None,
        kustomize_dir=kdir if kustomization_in(names, kdir) else None,
        remote_chart=remote,
    )


def is_archive(path: str) -> bool:
    return path.endswith((".tgz", ".tar.gz"))


def values_files(options: Iterable[DeploymentOptions]) -> set[str]:
    return {clean_dir(f) for o in options if o.helm for f in o.helm.values_files}


def raw_manifest_paths(files: Mapping[str, bytes], *, exclude: set[str]) -> list[str]:
    """The files of a raw-YAML bundle that hold Kubernetes objects."""
    chart_dirs = {dirname(p) for p in files if p.rpartition("/")[2] == CHART_YAML}
    out = []
    for path in sorted(files):
        base = path.rpartition("/")[2]
        if (
            not path.endswith(MANIFEST_SUFFIXES)
            or path == FLEET_YAML
            or path in exclude
            or base in KUSTOMIZATIONS
            or path.startswith(OVERLAYS)
            or any(d == "" or path.startswith(d + "/") for d in chart_dirs)
        ):
            continue
        out.append(path)
    return out
