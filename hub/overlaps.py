"""Objects that two bundles would both put on one cluster: found at apply, said as a warning.

A spoke applies each object for one bundle only and refuses it to the others (unless they set
helm.takeOwnership), so such an apply is stored but will show ErrApplied. Saying so at apply
time, naming the other bundle, spares the user the trip to `argosy status`.

The hub compares keys as the spoke will see them: a namespaced object without a namespace
lands in the bundle's defaultNamespace, else "default" (the spoke's usual default).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from argosy.bundle.scope import BUILTIN_CLUSTER_SCOPED
from argosy.manifests import describe_key
from hub.rendered import Rendered

SPOKE_DEFAULT_NAMESPACE = "default"
# Objects and clusters named in one warning; the rest are counted.
SHOWN = 3


def live_keys(rendered: Rendered) -> frozenset[str]:
    """The keys of a render's objects with the namespace the spoke will give them."""
    default = rendered.options.default_namespace or SPOKE_DEFAULT_NAMESPACE
    keys = set()
    for key in rendered.resources.items:
        group, kind, namespace, name = key.split("/", 3)
        if not namespace and (group, kind) not in BUILTIN_CLUSTER_SCOPED:
            namespace = default
        keys.add(f"{group}/{kind}/{namespace}/{name}")
    return frozenset(keys)


@dataclass
class _Clash:
    keys: set[str] = field(default_factory=set)
    clusters: list[str] = field(default_factory=list)


def overlap_warnings(
    pairs: Iterable[tuple[str, str, Rendered, str, Rendered]],
) -> dict[str, list[str]]:
    """Per applied bundle, one warning per other bundle it shares objects with.

    pairs: (cluster name, applied bundle, its render there, other bundle, the other's render
    there). Each distinct pair of revisions is compared once, however many clusters share it.
    """
    keys: dict[str, frozenset[str]] = {}
    shared: dict[tuple[str, str], frozenset[str]] = {}
    clashes: dict[tuple[str, str], _Clash] = {}
    for cluster, name, mine, other, theirs in pairs:
        if mine.options.take_ownership:
            continue
        pair = (mine.revision, theirs.revision)
        if pair not in shared:
            for r in (mine, theirs):
                if r.revision not in keys:
                    keys[r.revision] = live_keys(r)
            shared[pair] = keys[mine.revision] & keys[theirs.revision]
        if shared[pair]:
            clash = clashes.setdefault((name, other), _Clash())
            clash.keys |= shared[pair]
            clash.clusters.append(cluster)
    out: dict[str, list[str]] = {}
    for (name, other), clash in sorted(clashes.items()):
        out.setdefault(name, []).append(_say(other, clash))
    return out


def _say(other: str, clash: _Clash) -> str:
    objects = sorted(clash.keys)
    clusters = sorted(clash.clusters)
    return (
        f"{_listing([describe_key(k) for k in objects], 'object')} also in bundle {other} on "
        f"{_listing(clusters, 'cluster')}: each spoke keeps such an object for the bundle that "
        "applied it first and refuses it to the other (ErrApplied), unless the other sets "
        "helm.takeOwnership: true"
    )


def _listing(items: list[str], noun: str) -> str:
    shown = ", ".join(items[:SHOWN])
    more = f" and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return f"{len(items)} {noun}{'s' if len(items) != 1 else ''} ({shown}{more})"


def by_cluster(
    plan: Mapping[tuple[str, str], object],
) -> dict[str, dict[str, Rendered]]:
    """cluster id -> bundle -> render, for the rendered pairs of a plan."""
    out: dict[str, dict[str, Rendered]] = {}
    for (cluster_id, name), r in plan.items():
        if isinstance(r, Rendered):
            out.setdefault(cluster_id, {})[name] = r
    return out
