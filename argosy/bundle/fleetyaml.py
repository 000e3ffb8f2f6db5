"""fleet.yaml: parsing it into frozen options, with errors that name the file, line and key.

The dataclasses mirror Fleet's BundleSpec: DeploymentOptions is what a targetCustomization may
override (Fleet's BundleDeploymentOptions), BundleOptions is the whole file. Options are data
only; deciding what applies to a cluster is targeting's job, rendering is render's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import yaml

from argosy.bundle import schema
from argosy.errors import InvalidInput
from argosy.selectors import LabelSelector, selector_from_dict
from argosy.states import BUNDLE_STATES

FLEET_YAML = "fleet.yaml"
FIRST_MATCH = "FirstMatch"
ALL_MATCHES = "AllMatches"


@dataclass(frozen=True)
class HelmOptions:
    chart: str = ""
    repo: str = ""
    version: str = ""
    release_name: str = ""
    # None means "not given", which matters when merging customizations (Fleet's nil map).
    values: Mapping[str, Any] | None = None
    values_files: tuple[str, ...] = ()
    template_values: Mapping[str, str] | None = None
    values_from: tuple[Mapping[str, Any], ...] = ()
    timeout_seconds: int = 0
    force: bool = False
    take_ownership: bool = False
    max_history: int = 0
    wait_for_jobs: bool = False
    atomic: bool = False
    disable_pre_process: bool = False
    disable_dns: bool = False
    skip_schema_validation: bool = False
    disable_dependency_update: bool = False


@dataclass(frozen=True)
class KustomizeOptions:
    dir: str = ""


@dataclass(frozen=True)
class YAMLOptions:
    overlays: tuple[str, ...] = ()


@dataclass(frozen=True)
class ComparePatch:
    api_version: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = ""
    json_pointers: tuple[str, ...] = ()
    operations: tuple[Mapping[str, str], ...] = ()


@dataclass(frozen=True)
class CorrectDrift:
    enabled: bool = False
    force: bool = False
    keep_fail_history: bool = False


@dataclass(frozen=True)
class DeploymentOptions:
    """The options a target customization may override (Fleet's BundleDeploymentOptions)."""

    default_namespace: str = ""
    namespace: str = ""
    service_account: str = ""
    create_namespace: bool | None = None
    force_sync_generation: int = 0
    helm: HelmOptions | None = None
    kustomize: KustomizeOptions | None = None
    yaml: YAMLOptions | None = None
    compare_patches: tuple[ComparePatch, ...] | None = None
    keep_resources: bool = False
    delete_namespace: bool = False
    # ignore.conditions: each a map of condition fields (type, status) to match and ignore.
    ignore_conditions: tuple[Mapping[str, str], ...] = ()
    correct_drift: CorrectDrift | None = None
    namespace_labels: Mapping[str, str] = field(default_factory=dict)
    namespace_annotations: Mapping[str, str] = field(default_factory=dict)
    allow_pod_security_namespace_labels: bool = False
    delete_crd_resources: bool = False
    downstream_resources: tuple[Mapping[str, str], ...] = ()


@dataclass(frozen=True)
class TargetMatch:
    """A `targets` or `targetCustomizations` entry: which clusters, and what to change there."""

    name: str
    line: int
    cluster_name: str = ""
    cluster_selector: LabelSelector | None = None
    cluster_group: str = ""
    cluster_group_selector: LabelSelector | None = None
    do_not_deploy: bool = False
    options: DeploymentOptions = field(default_factory=DeploymentOptions)

    def has_criteria(self) -> bool:
        return bool(
            self.cluster_name
            or self.cluster_group
            or self.cluster_selector is not None
            or self.cluster_group_selector is not None
        )


@dataclass(frozen=True)
class BundleRef:
    name: str = ""
    selector: LabelSelector | None = None
    accepted_states: tuple[str, ...] = ()


@dataclass(frozen=True)
class Partition:
    name: str = ""
    max_unavailable: int | str | None = None
    cluster_name: str = ""
    cluster_selector: LabelSelector | None = None
    cluster_group: str = ""
    cluster_group_selector: LabelSelector | None = None


@dataclass(frozen=True)
class RolloutStrategy:
    max_unavailable: int | str | None = None
    max_unavailable_partitions: int | str | None = None
    auto_partition_size: int | str | None = None
    auto_partition_threshold: int | None = None
    max_new: int | None = None
    partitions: tuple[Partition, ...] = ()
    # Beyond Fleet: a partition stays Ready this long before the next starts; the rollout
    # halts once this many clusters failed (ErrApplied, or NotReady past the deadline).
    bake_seconds: int = 0
    max_failures: int = 0
    progress_deadline_seconds: int = 0


@dataclass(frozen=True)
class BundleOptions:
    """A whole fleet.yaml. The defaults are what an absent fleet.yaml means."""

    name: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    deployment: DeploymentOptions = field(default_factory=DeploymentOptions)
    paused: bool = False
    rollout_strategy: RolloutStrategy | None = None
    target_customization_mode: str = FIRST_MATCH
    targets: tuple[TargetMatch, ...] = ()
    target_customizations: tuple[TargetMatch, ...] = ()
    # Fleet's overrideTargets: added to targets, and a cluster must match one of them.
    override_targets: tuple[TargetMatch, ...] = ()
    depends_on: tuple[BundleRef, ...] = ()
    # Line of each dotted field in fleet.yaml, for errors found later (load checks, render).
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    def line(self, fld: str) -> int:
        probe = fld
        while probe and probe not in self.lines:
            probe = probe.rpartition(".")[0]
        return self.lines.get(probe, 1)

    # The deployment options as the brief's flat names, for callers reading one field.
    @property
    def namespace(self) -> str:
        return self.deployment.namespace

    @property
    def default_namespace(self) -> str:
        return self.deployment.default_namespace

    @property
    def helm(self) -> HelmOptions | None:
        return self.deployment.helm

    @property
    def kustomize(self) -> KustomizeOptions | None:
        return self.deployment.kustomize

    @property
    def yaml(self) -> YAMLOptions | None:
        return self.deployment.yaml

    @property
    def keep_resources(self) -> bool:
        return self.deployment.keep_resources

    @property
    def correct_drift(self) -> CorrectDrift | None:
        return self.deployment.correct_drift

    @property
    def ignore_conditions(self) -> tuple[Mapping[str, str], ...]:
        return self.deployment.ignore_conditions

    @property
    def compare_patches(self) -> tuple[ComparePatch, ...] | None:
        return self.deployment.compare_patches

    def as_dict(self) -> dict[str, Any]:
        """Plain data for canonical hashing (selectors become dicts too); no line numbers."""
        data = asdict(self)
        data.pop("lines")
        return data


def parse_fleet_yaml(text: str, *, path: str = FLEET_YAML) -> BundleOptions:
    """Check fleet.yaml against Fleet's schema and build BundleOptions.

    InvalidInput names path, line and key: 'fleet.yaml:3: unknown key 'namespce' (did you mean
    'namespace'?)'.
    """
    try:
        # Even constructing the loader reads the text (and refuses control characters).
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path}: invalid YAML: {exc}") from None
    try:
        node = loader.get_single_node()
        if node is None:
            return BundleOptions()
        schema.check_node(node, schema.FLEET_YAML, path=path, field="")
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise InvalidInput(f"{path}:{line}: invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path}: invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    lines = _line_index(node)
    return replace(_bundle_options(data or {}, _Where(path, lines)), lines=lines)


@dataclass(frozen=True)
class _Where:
    """Maps a dotted field back to its line, for errors found after the schema check."""

    path: str
    lines: Mapping[str, int]

    def at(self, fld: str) -> str:
        probe = fld
        while probe and probe not in self.lines:
            probe = probe.rpartition(".")[0]
        return f"{self.path}:{self.lines.get(probe, 1)}: {fld}"


def _line_index(node: yaml.Node, prefix: str = "") -> dict[str, int]:
    index = {prefix: int(node.start_mark.line) + 1}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            sub = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
            index.update(_line_index(value_node, sub))
            index[sub] = int(key_node.start_mark.line) + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            index.update(_line_index(item, f"{prefix}[{i}]"))
    return index


def _m(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return dict(value) if isinstance(value, Mapping) else {}


def _strs(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value or ())


def _selector(data: Mapping[str, Any], key: str, where: _Where, fld: str) -> LabelSelector | None:
    if data.get(key) is None:
        return None
    return selector_from_dict(data[key], where=where.at(f"{fld}.{key}" if fld else key))


def _helm(data: Mapping[str, Any] | None) -> HelmOptions | None:
    if data is None:
        return None
    values = data.get("values")
    return HelmOptions(
        chart=data.get("chart") or "",
        repo=data.get("repo") or "",
        version=data.get("version") or "",
        release_name=data.get("releaseName") or "",
        values=dict(values) if isinstance(values, Mapping) else None,
        values_files=_strs(data.get("valuesFiles")),
        template_values=(
            {str(k): str(v) for k, v in data["templateValues"].items()}
            if isinstance(data.get("templateValues"), Mapping)
            else None
        ),
        values_from=tuple(dict(v) for v in data.get("valuesFrom") or () if v),
        timeout_seconds=int(data.get("timeoutSeconds") or 0),
        force=bool(data.get("force")),
        take_ownership=bool(data.get("takeOwnership")),
        max_history=int(data.get("maxHistory") or 0),
        wait_for_jobs=bool(data.get("waitForJobs")),
        atomic=bool(data.get("atomic")),
        disable_pre_process=bool(data.get("disablePreProcess")),
        disable_dns=bool(data.get("disableDNS")),
        skip_schema_validation=bool(data.get("skipSchemaValidation")),
        disable_dependency_update=bool(data.get("disableDependencyUpdate")),
    )


def _deployment(data: Mapping[str, Any]) -> DeploymentOptions:
    diff = data.get("diff")
    drift = data.get("correctDrift")
    kustomize = data.get("kustomize")
    yaml_opts = data.get("yaml")
    ignore = _m(data, "ignore")
    return DeploymentOptions(
        default_namespace=data.get("defaultNamespace") or "",
        namespace=data.get("namespace") or "",
        service_account=data.get("serviceAccount") or "",
        create_namespace=data.get("createNamespace"),
        force_sync_generation=int(data.get("forceSyncGeneration") or 0),
        helm=_helm(data["helm"]) if isinstance(data.get("helm"), Mapping) else None,
        kustomize=(
            KustomizeOptions(dir=kustomize.get("dir") or "")
            if isinstance(kustomize, Mapping)
            else None
        ),
        yaml=(
            YAMLOptions(overlays=_strs(yaml_opts.get("overlays")))
            if isinstance(yaml_opts, Mapping)
            else None
        ),
        compare_patches=(
            tuple(
                ComparePatch(
                    api_version=p.get("apiVersion") or "",
                    kind=p.get("kind") or "",
                    name=p.get("name") or "",
                    namespace=p.get("namespace") or "",
                    json_pointers=_strs(p.get("jsonPointers")),
                    operations=tuple(
                        {str(k): str(v) for k, v in op.items() if v is not None}
                        for op in p.get("operations") or ()
                        if op
                    ),
                )
                for p in diff.get("comparePatches") or ()
                if p
            )
            if isinstance(diff, Mapping)
            else None
        ),
        keep_resources=bool(data.get("keepResources")),
        delete_namespace=bool(data.get("deleteNamespace")),
        ignore_conditions=tuple(
            {str(k): str(v) for k, v in c.items() if v is not None}
            for c in ignore.get("conditions") or ()
            if c
        ),
        correct_drift=(
            CorrectDrift(
                enabled=bool(drift.get("enabled")),
                force=bool(drift.get("force")),
                keep_fail_history=bool(drift.get("keepFailHistory")),
            )
            if isinstance(drift, Mapping)
            else None
        ),
        namespace_labels={str(k): str(v) for k, v in _m(data, "namespaceLabels").items()},
        namespace_annotations={str(k): str(v) for k, v in _m(data, "namespaceAnnotations").items()},
        allow_pod_security_namespace_labels=bool(data.get("allowPodSecurityNamespaceLabels")),
        delete_crd_resources=bool(data.get("deleteCRDResources")),
        downstream_resources=tuple(
            {str(k): str(v) for k, v in r.items() if v is not None}
            for r in data.get("downstreamResources") or ()
            if r
        ),
    )


def _targets(items: Any, *, key: str, where: _Where) -> tuple[TargetMatch, ...]:
    out = []
    for i, raw in enumerate(items or ()):
        item = dict(raw or {})
        fld = f"{key}[{i}]"
        line = where.lines.get(fld, 1)
        # Fleet names unnamed targets by position; the name shows in status and logs.
        out.append(
            TargetMatch(
                name=item.get("name") or f"target{i:03d}",
                line=line,
                cluster_name=item.get("clusterName") or "",
                cluster_selector=_selector(item, "clusterSelector", where, fld),
                cluster_group=item.get("clusterGroup") or "",
                cluster_group_selector=_selector(item, "clusterGroupSelector", where, fld),
                do_not_deploy=bool(item.get("doNotDeploy")),
                options=_deployment(item),
            )
        )
    return tuple(out)


POD_SECURITY_PREFIX = "pod-security.kubernetes.io/"
# A Kubernetes object name (DNS subdomain): the account is named in a request header.
_SA_NAME = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")

# fleet.yaml keys whose Fleet meaning Argosy cannot carry out. Set to anything but their default
# they are an error naming the key, never silently ignored. (dotted key, "is set", why)
UNSUPPORTED: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    (
        "helm.atomic",
        bool,
        "Argosy applies rendered objects with server-side apply; there is no Helm release "
        "to roll back when an upgrade fails",
    ),
    (
        "helm.valuesFrom",
        bool,
        "charts are rendered on the hub, which cannot read ConfigMaps or Secrets of the "
        "downstream clusters; use helm.values or helm.valuesFiles",
    ),
    (
        "helm.skipSchemaValidation",
        bool,
        "charts are always rendered with their values.schema.json checked",
    ),
    (
        "createNamespace",
        lambda v: v is False,
        "the spoke always creates the namespaces a deployment needs",
    ),
    (
        "correctDrift.force",
        bool,
        "drift is corrected by a forced server-side apply of the desired fields; objects are "
        "never deleted and recreated as helm rollback --force does",
    ),
    (
        "correctDrift.keepFailHistory",
        bool,
        "there is no Helm release history to keep failed rollbacks in",
    ),
    (
        "downstreamResources",
        bool,
        "there is no upstream namespace to copy Secrets or ConfigMaps from",
    ),
)
TOP_LEVEL_UNSUPPORTED: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    (
        "imageScans",
        bool,
        "Argosy does not scan image registries or commit new tags to Git",
    ),
    (
        "rolloutStrategy.maxNew",
        lambda v: v is not None,
        "new deployments are all staged at once; pace a rollout with rolloutStrategy "
        "partitions and maxUnavailable",
    ),
)


def _dig(data: Mapping[str, Any], dotted: str) -> Any:
    value: Any = data
    for part in dotted.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _check_supported(
    data: Mapping[str, Any],
    rules: tuple[tuple[str, Callable[[Any], bool], str], ...],
    *,
    prefix: str,
    where: _Where,
    allow_pod_security: bool,
) -> None:
    for key, is_set, why in rules:
        if is_set(_dig(data, key)):
            fld = f"{prefix}.{key}" if prefix else key
            raise InvalidInput(f"{where.at(fld)} is not supported: {why}")
    account = data.get("serviceAccount")
    if isinstance(account, str) and account not in ("", "-") and not _SA_NAME.match(account):
        fld = f"{prefix}.serviceAccount" if prefix else "serviceAccount"
        raise InvalidInput(
            f"{where.at(fld)}: {account!r} is not a service account name (lowercase letters, "
            "digits, '-' and '.', at most 253 characters)"
        )
    labels = _m(data, "namespaceLabels")
    allowed = allow_pod_security or bool(data.get("allowPodSecurityNamespaceLabels"))
    for label in labels:
        if str(label).startswith(POD_SECURITY_PREFIX) and not allowed:
            fld = f"{prefix}.namespaceLabels" if prefix else "namespaceLabels"
            raise InvalidInput(
                f"{where.at(fld)}: {label} changes the namespace's Pod Security admission; "
                "set allowPodSecurityNamespaceLabels: true to allow it"
            )


def _bundle_options(data: Mapping[str, Any], where: _Where) -> BundleOptions:
    allow_ps = bool(data.get("allowPodSecurityNamespaceLabels"))
    _check_supported(
        data,
        UNSUPPORTED + TOP_LEVEL_UNSUPPORTED,
        prefix="",
        where=where,
        allow_pod_security=allow_ps,
    )
    for key in ("targets", "targetCustomizations"):
        for i, item in enumerate(data.get(key) or ()):
            _check_supported(
                item or {},
                UNSUPPORTED,
                prefix=f"{key}[{i}]",
                where=where,
                allow_pod_security=allow_ps,
            )
    mode = data.get("targetCustomizationMode") or FIRST_MATCH
    if mode not in (FIRST_MATCH, ALL_MATCHES):
        raise InvalidInput(
            f"{where.at('targetCustomizationMode')}: {mode!r} is not one of "
            f"{FIRST_MATCH}, {ALL_MATCHES}"
        )
    depends = []
    for i, raw in enumerate(data.get("dependsOn") or ()):
        dep = dict(raw or {})
        fld = f"dependsOn[{i}]"
        if not dep.get("name") and dep.get("selector") is None:
            raise InvalidInput(f"{where.at(fld)}: needs 'name' or 'selector'")
        for j, state in enumerate(dep.get("acceptedStates") or ()):
            if state not in BUNDLE_STATES:
                raise InvalidInput(
                    f"{where.at(f'{fld}.acceptedStates[{j}]')}: {state!r} is not a bundle state "
                    f"({', '.join(BUNDLE_STATES)})"
                )
        depends.append(
            BundleRef(
                name=dep.get("name") or "",
                selector=_selector(dep, "selector", where, fld),
                accepted_states=_strs(dep.get("acceptedStates")),
            )
        )
    rollout = data.get("rolloutStrategy")
    return BundleOptions(
        name=data.get("name") or "",
        labels={str(k): str(v) for k, v in _m(data, "labels").items()},
        deployment=_deployment(data),
        paused=bool(data.get("paused")),
        rollout_strategy=_rollout(rollout, where) if isinstance(rollout, Mapping) else None,
        target_customization_mode=mode,
        targets=_targets(data.get("targets"), key="targets", where=where),
        target_customizations=_targets(
            data.get("targetCustomizations"), key="targetCustomizations", where=where
        ),
        override_targets=_targets(data.get("overrideTargets"), key="overrideTargets", where=where),
        depends_on=tuple(depends),
    )


def _rollout(data: Mapping[str, Any], where: _Where) -> RolloutStrategy:
    partitions = []
    for i, raw in enumerate(data.get("partitions") or ()):
        p = dict(raw or {})
        fld = f"rolloutStrategy.partitions[{i}]"
        partitions.append(
            Partition(
                name=p.get("name") or "",
                max_unavailable=p.get("maxUnavailable"),
                cluster_name=p.get("clusterName") or "",
                cluster_selector=_selector(p, "clusterSelector", where, fld),
                cluster_group=p.get("clusterGroup") or "",
                cluster_group_selector=_selector(p, "clusterGroupSelector", where, fld),
            )
        )
    return RolloutStrategy(
        max_unavailable=data.get("maxUnavailable"),
        max_unavailable_partitions=data.get("maxUnavailablePartitions"),
        auto_partition_size=data.get("autoPartitionSize"),
        auto_partition_threshold=data.get("autoPartitionThreshold"),
        max_new=data.get("maxNew"),
        partitions=tuple(partitions),
        bake_seconds=int(data.get("bakeSeconds") or 0),
        max_failures=int(data.get("maxFailures") or 0),
        progress_deadline_seconds=int(data.get("progressDeadlineSeconds") or 0),
    )
