"""Rendering a bundle for one target into the ResourceSet a spoke applies.

The pipeline is Fleet's: raw YAML gets its overlays; a chart is rendered by Helm with the
target's values (templated per cluster first); a kustomization is built by Kustomize, over the
chart's output when both are present; then `namespace` is forced onto every object, refusing
cluster-scoped ones. `defaultNamespace` is left to the spoke, which alone knows every kind's
scope (see argosy.options.ApplyOptions).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from argosy.bundle import engines, layout
from argosy.bundle import values as tv
from argosy.bundle.charts import ChartFetcher
from argosy.bundle.fleetyaml import FLEET_YAML, DeploymentOptions
from argosy.bundle.loader import Bundle, raw_objects, release_name
from argosy.bundle.overlays import apply_overlays
from argosy.bundle.scope import force_namespace
from argosy.bundle.targeting import Target
from argosy.errors import InvalidInput
from argosy.manifests import ResourceSet, Source, build_resource_set, parse_manifests

FLEET_MANIFESTS = "fleet-manifests.yaml"
HELM_DEFAULT_NAMESPACE = "default"


async def render(
    bundle: Bundle,
    target: Target | None = None,
    *,
    time_limit: float = engines.DEFAULT_TIMEOUT,
    charts: ChartFetcher | None = None,
) -> ResourceSet:
    """The objects for target (None: the bundle's own options, no customization).

    A remote chart comes through `charts` (the hub passes its one shared, caching fetcher);
    without one, a fetcher for this render alone fetches it.
    """
    if target is not None and target.error:
        raise InvalidInput(f"bundle {bundle.name}: {target.error}")
    options = target.options if target is not None else bundle.options.deployment
    context = target.context if target is not None else {}
    style = layout.style_of(bundle.files, options)
    if style.raw:
        overlays = options.yaml.overlays if options.yaml else ()
        files = apply_overlays(bundle.files, overlays) if overlays else dict(bundle.files)
        objects = raw_objects(files, exclude=bundle.values_files)
    else:
        with tempfile.TemporaryDirectory(prefix="argosy-render-") as tmp:
            root = Path(tmp) / "bundle"
            root.mkdir()
            await asyncio.to_thread(_write_files, root, bundle.files)
            documents = await _render_engines(
                bundle,
                options,
                context,
                style=style,
                root=root,
                time_limit=time_limit,
                charts=charts,
            )
        objects = []
        for i, text in enumerate(documents):
            objects.extend(_parse_rendered(text, path=f"{bundle.name} ({style} output {i})"))
    return build_resource_set(force_namespace(objects, options.namespace))


def _write_files(root: Path, files: Mapping[str, bytes]) -> None:
    for name, data in files.items():
        path = (root / name).resolve()
        if not path.is_relative_to(root.resolve()):
            raise InvalidInput(f"{name}: a bundle file path may not leave the bundle")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _parse_rendered(text: str, *, path: str) -> list[tuple[dict[str, Any], Source]]:
    return [
        (obj, where) for obj, where in parse_manifests(text, path=path) if obj.get("kind") != "List"
    ]


async def _render_engines(
    bundle: Bundle,
    options: DeploymentOptions,
    context: Mapping[str, Any],
    *,
    style: layout.Style,
    root: Path,
    time_limit: float,
    charts: ChartFetcher | None,
) -> list[str]:
    documents: list[str] = []
    if style.chart_dir is not None:
        chart_path = root / style.chart_dir if style.chart_dir else root
        chart_what = layout.join(style.chart_dir, layout.CHART_YAML)
        if style.remote_chart is not None:
            ref = style.remote_chart
            fld = "helm.repo" if ref.kind == "repo" else "helm.chart"
            where = f"bundle {bundle.name}: {FLEET_YAML}:{bundle.options.line(fld)}"
            fetcher = charts or ChartFetcher(time_limit=time_limit)
            archive = await fetcher.fetch(ref, where=where)
            # Outside the bundle's own files, so no bundle path can collide with it.
            chart_path = root.parent / "chart.tgz"
            await asyncio.to_thread(chart_path.write_bytes, archive)
            chart_what = ref.display
        elif style.chart_dir and layout.is_archive(style.chart_dir):
            chart_what = style.chart_dir
        helm = options.helm
        values = dict(helm.values or {}) if helm else {}
        if context and helm and not helm.disable_pre_process:
            values = await _template_values(values, helm.template_values, context, time_limit)
        namespace = options.namespace or options.default_namespace or HELM_DEFAULT_NAMESPACE
        documents = await engines.helm_template(
            chart_path,
            values=values,
            release=release_name(bundle.name, options),
            namespace=namespace,
            what=f"bundle {bundle.name}: helm chart {chart_what}",
            time_limit=time_limit,
        )
    if style.kustomize_dir is not None:
        kdir = root / style.kustomize_dir if style.kustomize_dir else root
        if documents:
            await asyncio.to_thread(_add_manifests_to_kustomization, kdir, documents)
        kfile = layout.kustomization_in(bundle.files, style.kustomize_dir)
        documents = [
            await engines.kustomize_build(
                kdir, what=f"bundle {bundle.name}: kustomize {kfile}", time_limit=time_limit
            )
        ]
    return documents


def _add_manifests_to_kustomization(kdir: Path, documents: Sequence[str]) -> None:
    """Fleet's way of kustomizing a chart: its output becomes the first kustomize resource."""
    (kdir / FLEET_MANIFESTS).write_text("\n---\n".join(documents))
    kfile = next(kdir / k for k in layout.KUSTOMIZATIONS if (kdir / k).is_file())
    try:
        data = yaml.safe_load(kfile.read_text()) or {}
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{kfile.name}: invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{kfile.name}: a kustomization must be a mapping")
    resources = list(data.get("resources") or [])
    if FLEET_MANIFESTS not in resources:
        data["resources"] = [FLEET_MANIFESTS, *resources]
    kfile.write_text(yaml.safe_dump(data, sort_keys=False))


async def _template_values(
    values: Mapping[str, Any],
    template_values: Mapping[str, str] | None,
    context: Mapping[str, Any],
    time_limit: float,
) -> dict[str, Any]:
    """Fleet's `${ }` value templates, run by Helm's Go template engine over the cluster facts.

    Each template is a one-template chart whose body runs `with` the cluster facts, so
    `.ClusterLabels.env` means what it means in Fleet.
    """
    out = _load_values(await _run_template(tv.dump_values(values), context, time_limit))
    # templateValues: each key's template is rendered alone, then read as YAML (Fleet's rule).
    for key, text in (template_values or {}).items():
        out[key] = _load_values(await _run_template(f"v: {text}", context, time_limit)).get("v")
    return out


async def _run_template(text: str, context: Mapping[str, Any], time_limit: float) -> str:
    with tempfile.TemporaryDirectory(prefix="argosy-values-") as tmp:
        chart = Path(tmp)
        await asyncio.to_thread(_write_values_chart, chart, text)
        rendered = await engines.helm_template(
            chart,
            values={"ctx": dict(context)},
            release="fleet-values",
            namespace=HELM_DEFAULT_NAMESPACE,
            what="fleet.yaml helm.values templates",
            time_limit=time_limit,
        )
    return "\n".join(rendered)


def _load_values(text: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(
            f"fleet.yaml helm.values: templated values are not YAML: {exc}"
        ) from None
    if data is not None and not isinstance(data, dict):
        raise InvalidInput("fleet.yaml helm.values: templated values are not a mapping")
    return dict(data or {})


def _write_values_chart(chart: Path, text: str) -> None:
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: fleet-values\nversion: 0.0.0\n")
    body = "{{- with .Values.ctx }}\n" + tv.to_helm_template(text) + "\n{{- end }}\n"
    (chart / "templates" / "values.yaml").write_text(body)
