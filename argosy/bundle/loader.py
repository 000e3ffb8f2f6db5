"""Loading a bundle's files into a validated Bundle, the same way on the CLI and the hub.

Everything that can be checked without rendering is checked here, so `argosy apply` fails fast
with the file and line: fleet.yaml against Fleet's schema, the directories and files fleet.yaml
names (kustomize.dir, helm.chart, valuesFiles, yaml.overlays), and every raw manifest, including
`namespace` on a cluster-scoped object. Charts and kustomizations are only checked by rendering.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from argosy.bundle import layout
from argosy.bundle.charts import parse_constraint, remote_chart
from argosy.bundle.customize import merge_maps
from argosy.bundle.fleetyaml import (
    FLEET_YAML,
    BundleOptions,
    DeploymentOptions,
    HelmOptions,
    TargetMatch,
    parse_fleet_yaml,
)
from argosy.bundle.overlays import OVERLAYS, overlay_names
from argosy.bundle.reader import BundleSource
from argosy.bundle.scope import force_namespace
from argosy.errors import InvalidInput, Problems
from argosy.hashing import canonical_json, combine, sha256_hex
from argosy.manifests import (
    ResourceSet,
    Source,
    build_resource_set,
    check_object,
    load_yaml_documents,
)
from argosy.names import check_labels, check_name

MAX_RELEASE_NAME = 53


@dataclass(frozen=True)
class Bundle:
    """A validated bundle.

    `resources` holds the objects known without rendering: the raw manifests with the bundle's
    own namespace (empty for a chart or kustomization). What a cluster gets is render()'s answer.
    `revision` changes exactly when the bundle's content (files or options) changes.
    """

    name: str
    labels: Mapping[str, str]
    files: Mapping[str, bytes] = field(repr=False)
    resources: ResourceSet = field(repr=False)
    options: BundleOptions = field(default_factory=BundleOptions, repr=False)
    values_files: frozenset[str] = frozenset()
    revision: str = ""
    style: str = "raw YAML"

    def __post_init__(self) -> None:
        if not self.revision:
            object.__setattr__(self, "revision", self.resources.revision)


def release_name(bundle_name: str, options: DeploymentOptions) -> str:
    """helm.releaseName, else the bundle name cut to Helm's 53 characters as Fleet cuts it."""
    if options.helm and options.helm.release_name:
        return options.helm.release_name
    if len(bundle_name) <= MAX_RELEASE_NAME:
        return bundle_name
    keep = MAX_RELEASE_NAME - 6
    sep = "" if bundle_name[keep - 1] == "-" else "-"
    digest = hashlib.md5(bundle_name.encode(), usedforsecurity=False).hexdigest()[:5]
    return f"{bundle_name[:keep]}{sep}{digest}"


def raw_objects(
    files: Mapping[str, bytes], *, exclude: Iterable[str] = (), problems: Problems | None = None
) -> list[tuple[dict[str, Any], Source]]:
    """The Kubernetes objects in a raw-YAML bundle's manifest files.

    A document with neither apiVersion nor kind is not a Kubernetes object and is skipped, as
    Fleet does; one with only one of them is a mistake and an error. Every bad file and document
    is reported, not only the first: into problems when given (returning the good objects, so
    that later checks run on them too), else raised together.
    """
    own = problems is None
    problems = Problems() if problems is None else problems
    objects: list[tuple[dict[str, Any], Source]] = []
    for path in layout.raw_manifest_paths(files, exclude=set(exclude)):
        try:
            text = files[path].decode("utf-8")
        except UnicodeDecodeError:
            problems.found.append(f"{path}: not UTF-8 text")
            continue
        documents: list[tuple[Any, int]] = []
        with problems.check():
            documents = load_yaml_documents(text, path=path)
        for doc, line in documents:
            with problems.check():
                objects.extend(_objects_of(doc, Source(path, line)))
    if own:
        problems.raise_any()
    return objects


def _objects_of(doc: Any, where: Source) -> list[tuple[dict[str, Any], Source]]:
    if isinstance(doc, dict) and "apiVersion" not in doc and "kind" not in doc:
        return []
    if isinstance(doc, dict) and doc.get("kind") == "List" and "items" in doc:
        items = doc["items"] or []
        if not isinstance(items, list):
            raise InvalidInput(f"{where}: List 'items' must be a sequence")
        return [(check_object(item, where), where) for item in items]
    return [(check_object(doc, where), where)]


def _option_sets(options: BundleOptions) -> list[tuple[str, DeploymentOptions]]:
    """Each options block of fleet.yaml with its dotted prefix, for checks and errors."""
    out = [("", options.deployment)]
    for key, items in (
        ("targets", options.targets),
        ("targetCustomizations", options.target_customizations),
    ):
        out.extend((f"{key}[{i}].", t.options) for i, t in enumerate(items))
    return out


def _resolve_values_files(
    helm: HelmOptions, files: Mapping[str, bytes], *, where: str
) -> HelmOptions:
    """Fleet reads valuesFiles into values when reading the bundle; files override inline."""
    values = dict(helm.values or {})
    for name in helm.values_files:
        path = layout.clean_dir(name)
        if path not in files:
            raise InvalidInput(f"{where}: helm.valuesFiles names {name!r}, not in the bundle")
        try:
            data = yaml.safe_load(files[path].decode("utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"{path}: not a YAML values file: {exc}") from None
        if data is not None and not isinstance(data, dict):
            raise InvalidInput(f"{path}: a values file must hold a mapping")
        values = merge_maps(values, data or {})
    return replace(helm, values=values) if helm.values_files else helm


def _check_paths(
    options: BundleOptions, opts: DeploymentOptions, prefix: str, files: Mapping[str, bytes]
) -> None:
    def at(fld: str) -> str:
        return f"{FLEET_YAML}:{options.line(prefix + fld)}"

    if opts.kustomize and opts.kustomize.dir:
        kdir = layout.clean_dir(opts.kustomize.dir)
        if not layout.kustomization_in(files, kdir):
            exists = any(p.startswith(kdir + "/") for p in files)
            problem = "has no kustomization.yaml" if exists else "does not exist in the bundle"
            raise InvalidInput(f"{at('kustomize.dir')}: kustomize.dir {kdir!r} {problem}")
    if opts.helm and (opts.helm.chart or opts.helm.repo):
        chart = opts.helm.chart
        try:
            remote = remote_chart(opts.helm.repo, chart, opts.helm.version)
            if remote is not None and remote.kind == "repo":
                parse_constraint(opts.helm.version)
        except InvalidInput as exc:
            fld = (
                "helm.version"
                if "helm.version" in str(exc)
                else "helm.chart"
                if chart
                else "helm.repo"
            )
            raise InvalidInput(f"{at(fld)}: {exc}") from None
        cdir = layout.clean_dir(chart)
        if remote is not None:
            pass  # fetched when rendered: charts.py
        elif layout.is_archive(cdir):
            if cdir not in files:
                raise InvalidInput(f"{at('helm.chart')}: helm.chart {chart!r}: not in the bundle")
        elif layout.join(cdir, layout.CHART_YAML) not in files:
            raise InvalidInput(f"{at('helm.chart')}: helm.chart {chart!r}: no Chart.yaml there")
    _check_overlays(options, opts, prefix, files)


def _check_overlays(
    options: BundleOptions, opts: DeploymentOptions, prefix: str, files: Mapping[str, bytes]
) -> None:
    def at(fld: str) -> str:
        return f"{FLEET_YAML}:{options.line(prefix + fld)}"

    if opts.yaml:
        present = overlay_names(files)
        for i, name in enumerate(opts.yaml.overlays):
            if name not in present:
                raise InvalidInput(
                    f"{at(f'yaml.overlays[{i}]')}: overlay {name!r}: no directory "
                    f"{OVERLAYS}{name}/ in the bundle"
                )


def _with_values_files(options: BundleOptions, files: Mapping[str, bytes]) -> BundleOptions:
    def fix(opts: DeploymentOptions, prefix: str) -> DeploymentOptions:
        if opts.helm is None or not opts.helm.values_files:
            return opts
        where = f"{FLEET_YAML}:{options.line(prefix + 'helm.valuesFiles')}"
        return replace(opts, helm=_resolve_values_files(opts.helm, files, where=where))

    def fix_targets(items: tuple[TargetMatch, ...], key: str) -> tuple[TargetMatch, ...]:
        return tuple(
            replace(t, options=fix(t.options, f"{key}[{i}].")) for i, t in enumerate(items)
        )

    return replace(
        options,
        deployment=fix(options.deployment, ""),
        targets=fix_targets(options.targets, "targets"),
        target_customizations=fix_targets(options.target_customizations, "targetCustomizations"),
    )


def _content_hash(options: BundleOptions, files: Mapping[str, bytes]) -> str:
    return combine(
        [
            sha256_hex(canonical_json(options.as_dict())),
            *(f"{path} {sha256_hex(data)}" for path, data in sorted(files.items())),
        ]
    )


def load_bundle(source: BundleSource, *, labels: Mapping[str, str] | None = None) -> Bundle:
    """Parse and check everything static in the bundle; InvalidInput names the file and line."""
    check_name(source.name, what="bundle name")
    options = BundleOptions()
    if FLEET_YAML in source.files:
        try:
            text = source.files[FLEET_YAML].decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"{FLEET_YAML}: not UTF-8 text") from None
        options = parse_fleet_yaml(text)
    all_labels = {**options.labels, **(labels or {})}
    check_labels(all_labels, what=f"bundle {source.name} labels")
    files = dict(source.files)
    problems = Problems()
    for prefix, opts in _option_sets(options):
        with problems.check():
            _check_paths(options, opts, prefix, files)
    problems.raise_any()
    options = _with_values_files(options, files)
    values_files = frozenset(layout.values_files(o for _, o in _option_sets(options)))
    style = layout.style_of(files, options.deployment)
    resources = ResourceSet.of([])
    if style.raw:
        objects = raw_objects(files, exclude=values_files, problems=problems)
        has_overlays = any(o.yaml and o.yaml.overlays for _, o in _option_sets(options))
        if not objects and not has_overlays and not problems.found:
            raise InvalidInput(f"bundle {source.name}: no Kubernetes objects in its files")
        with problems.check():
            resources = build_resource_set(force_namespace(objects, options.namespace))
        problems.raise_any()
    # Without fleet.yaml the objects are the whole content: keep their revision, so formatting
    # and comments change nothing. Otherwise options, overlays and charts count too.
    revision = (
        resources.revision
        if style.raw and FLEET_YAML not in files
        else combine([resources.revision, _content_hash(options, files)])
    )
    return Bundle(
        name=source.name,
        labels=all_labels,
        files=files,
        resources=resources,
        options=options,
        values_files=values_files,
        revision=revision,
        style=str(style),
    )
