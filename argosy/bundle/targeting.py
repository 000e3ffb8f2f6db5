"""Which clusters a bundle goes to, with which customization, and which render they share (pure).

Matching follows Fleet's ClusterMatcher: every criterion a target names (clusterName,
clusterGroup, clusterGroupSelector, clusterSelector) must hold, through one group of the cluster
for the group criteria; a target naming none matches nothing. No `targets` means every cluster
(Fleet's default target, the "default" group). Customizations are picked FirstMatch or, with
targetCustomizationMode AllMatches, all matches merged in order.

The render key hashes exactly what the renderer reads: the bundle's revision, the merged
rendering options and the cluster facts the value templates use. Clusters with equal keys get
byte-identical renders, so the hub renders once per key, never once per cluster.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from argosy.bundle import values as tv
from argosy.bundle.customize import merge_options
from argosy.bundle.fleetyaml import ALL_MATCHES, BundleOptions, DeploymentOptions, TargetMatch
from argosy.hashing import canonical_json, sha256_hex
from argosy.options import ApplyOptions, json_list
from argosy.selectors import LabelSelector

if TYPE_CHECKING:
    from argosy.bundle.loader import Bundle

DEFAULT_GROUP = "default"


@dataclass(frozen=True)
class Cluster:
    """What targeting and value templates may know of a cluster."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    namespace: str = ""
    annotations: Mapping[str, str] = field(default_factory=dict)
    template_values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """Whether a bundle goes to a cluster, and the options it goes with."""

    targeted: bool
    target: str = ""
    customizations: tuple[str, ...] = ()
    do_not_deploy: bool = False
    options: DeploymentOptions = field(default_factory=DeploymentOptions)

    @property
    def deploys(self) -> bool:
        return self.targeted and not self.do_not_deploy


@dataclass(frozen=True)
class Target:
    """One cluster's render input. Equal render_key means equal render."""

    bundle: str
    cluster: str
    customizations: tuple[str, ...]
    options: DeploymentOptions
    # The cluster facts the value templates read, in Fleet's template names.
    context: Mapping[str, Any]
    render_key: str
    # A reason this cluster cannot be rendered (a template reads a label it lacks); render
    # raises it, so one bad cluster fails alone.
    error: str = ""

    @property
    def apply_options(self) -> ApplyOptions:
        return apply_options(self.options)


def apply_options(options: DeploymentOptions) -> ApplyOptions:
    """What the spoke needs of a cluster's merged fleet.yaml options."""
    drift = options.correct_drift
    return ApplyOptions(
        default_namespace=options.namespace or options.default_namespace,
        keep_resources=options.keep_resources,
        force=bool(options.helm and options.helm.force),
        correct_drift=bool(drift and drift.enabled),
        compare_patches_json=json_list(
            [
                {
                    k: v
                    for k, v in (
                        ("apiVersion", p.api_version),
                        ("kind", p.kind),
                        ("name", p.name),
                        ("namespace", p.namespace),
                        ("jsonPointers", list(p.json_pointers)),
                        ("operations", [dict(o) for o in p.operations]),
                    )
                    if v
                }
                for p in options.compare_patches or ()
            ]
        ),
        ignore_conditions_json=json_list([dict(c) for c in options.ignore_conditions]),
        force_sync_generation=options.force_sync_generation,
        take_ownership=bool(options.helm and options.helm.take_ownership),
        service_account=options.service_account,
        namespace_labels=dict(options.namespace_labels),
        namespace_annotations=dict(options.namespace_annotations),
        # Fleet keeps the namespace whenever it keeps the resources.
        delete_namespace=options.delete_namespace and not options.keep_resources,
    )


def cluster_groups(
    cluster: Cluster, groups: Mapping[str, LabelSelector]
) -> dict[str, LabelSelector]:
    """The groups the cluster is in; "default" holds every cluster."""
    return {
        name: sel
        for name, sel in groups.items()
        if name == DEFAULT_GROUP or sel.matches(cluster.labels)
    }


def matches(
    target: TargetMatch,
    cluster: Cluster,
    member_of: Mapping[str, LabelSelector],
    group_labels: Mapping[str, Mapping[str, str]],
) -> bool:
    if not target.has_criteria():
        return False
    if target.cluster_name and target.cluster_name != cluster.name:
        return False
    if target.cluster_selector is not None and not target.cluster_selector.matches(cluster.labels):
        return False
    if not target.cluster_group and target.cluster_group_selector is None:
        return True
    return any(
        (not target.cluster_group or target.cluster_group == group)
        and (
            target.cluster_group_selector is None
            or target.cluster_group_selector.matches(group_labels.get(group, {}))
        )
        for group in member_of
    )


def decide(
    options: BundleOptions,
    cluster: Cluster,
    groups: Mapping[str, LabelSelector],
    *,
    group_labels: Mapping[str, Mapping[str, str]] | None = None,
) -> Decision:
    """Whether the bundle targets the cluster, and the merged options there."""
    member_of = cluster_groups(cluster, groups)
    glabels = group_labels or {}
    overrides = options.override_targets
    if overrides and not any(matches(t, cluster, member_of, glabels) for t in overrides):
        # Fleet's target restrictions: overrideTargets bound where the bundle may go at all.
        return Decision(targeted=False)
    targets = options.targets + overrides
    if targets:
        chosen = next((t for t in targets if matches(t, cluster, member_of, glabels)), None)
        if chosen is None:
            return Decision(targeted=False)
        if chosen.do_not_deploy:
            return Decision(targeted=True, target=chosen.name, do_not_deploy=True)
        merged = merge_options(options.deployment, chosen.options)
        target_name = chosen.name
    else:
        merged, target_name = options.deployment, DEFAULT_GROUP
    hits = [t for t in options.target_customizations if matches(t, cluster, member_of, glabels)]
    if options.target_customization_mode != ALL_MATCHES:
        hits = hits[:1]
    names = tuple(t.name for t in hits)
    if any(t.do_not_deploy for t in hits):
        return Decision(targeted=True, target=target_name, customizations=names, do_not_deploy=True)
    for hit in hits:
        merged = merge_options(merged, hit.options)
    return Decision(targeted=True, target=target_name, customizations=names, options=merged)


def _context(
    options: DeploymentOptions, cluster: Cluster
) -> tuple[DeploymentOptions, dict[str, Any], str]:
    """Substitute label values, and pick the cluster facts the `${ }` templates read."""
    helm = options.helm
    if helm is None or (helm.values is None and helm.template_values is None):
        return options, {}, ""
    values, used_labels = tv.substitute_labels(helm.values or {}, cluster.labels)
    context: dict[str, Any] = {}
    if used_labels:
        context["ClusterLabels"] = {k: cluster.labels.get(k, "") for k in sorted(used_labels)}
    options = replace(options, helm=replace(helm, values=values))
    if helm.disable_pre_process:
        return options, context, ""
    text = tv.dump_values(values) + "".join((helm.template_values or {}).values())
    refs = tv.references(text)
    if not refs:
        return options, context, ""
    facts: dict[str, Any] = {
        "ClusterName": cluster.name,
        "ClusterNamespace": cluster.namespace,
        "ClusterLabels": dict(cluster.labels),
        "ClusterAnnotations": dict(cluster.annotations),
        "ClusterValues": dict(cluster.template_values),
    }
    if refs.everything:
        return options, facts, ""
    context = {name: facts[name] for name in refs.names}
    for root in refs.whole:
        context[root] = facts[root]
    error = ""
    for root, key in sorted(refs.keys):
        if root in refs.whole:
            continue
        if key not in facts[root]:
            # Fleet renders with missingkey=error, so this cluster fails rather than getting "".
            error = f"fleet.yaml helm.values: cluster {cluster.name} has no {root} key {key!r}"
            continue
        context.setdefault(root, {})[key] = facts[root][key]
    return options, context, error


def _render_inputs(options: DeploymentOptions) -> dict[str, Any]:
    """The options the renderer reads; apply-side options (drift, keep...) are left out."""
    return {
        "namespace": options.namespace,
        "defaultNamespace": options.default_namespace,
        "helm": asdict(options.helm) if options.helm else None,
        "kustomize": asdict(options.kustomize) if options.kustomize else None,
        "yaml": asdict(options.yaml) if options.yaml else None,
    }


def render_key(revision: str, options: DeploymentOptions, context: Mapping[str, Any]) -> str:
    """Equal keys: equal resources *and* equal apply options, since a render carries both.

    Two clusters whose customizations differ only in apply options (serviceAccount,
    namespaceLabels, correctDrift...) render the same objects but must not share one result.
    """
    return sha256_hex(
        canonical_json(
            {
                "revision": revision,
                "options": _render_inputs(options),
                "context": context,
                "apply": apply_options(options).as_dict(),
            }
        )
    )


def target_for(
    bundle: Bundle,
    cluster: Cluster,
    groups: Mapping[str, LabelSelector],
    *,
    group_labels: Mapping[str, Mapping[str, str]] | None = None,
) -> Target | None:
    """The render input for the bundle on this cluster, or None if it is not deployed there."""
    decision = decide(bundle.options, cluster, groups, group_labels=group_labels)
    if not decision.deploys:
        return None
    options, context, error = _context(decision.options, cluster)
    return Target(
        bundle=bundle.name,
        cluster=cluster.name,
        customizations=decision.customizations,
        options=options,
        context=context,
        # A failing cluster gets a key of its own, so no render is shared with it.
        render_key=sha256_hex(f"error {cluster.name} {error}".encode())
        if error
        else render_key(bundle.revision, options, context),
        error=error,
    )
