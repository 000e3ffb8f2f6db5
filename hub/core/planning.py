"""Which cluster gets which rendered input: the plan an apply, a registration or a group change
commits.

Targeting itself (hub/rendering.py `target_for`) is pure; rendering goes through the Renderer,
which renders each distinct input once and caches it, so a plan for 10,000 clusters renders as
many times as there are distinct inputs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from argosy.bundle import Bundle, BundleSource, load_bundle
from argosy.errors import InvalidInput, Problems
from argosy.selectors import LabelSelector
from hub.core.inventory import DEFAULT_GROUP
from hub.models import ClusterRecord
from hub.overlaps import by_cluster
from hub.rendered import Rendered
from hub.rendering import PROBE_CLUSTER, Renderer, base_target, target_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Unrendered:
    """A pair the bundle targets but cannot be rendered for (a template reads a label the
    cluster lacks, say): a deployment in error, shown, never left out."""

    error: str


# (cluster id, bundle) -> what the pair should hold; None where the bundle does not reach.
Plan = dict[tuple[str, str], Rendered | Unrendered | None]


@dataclass(frozen=True)
class Limits:
    """What one bundle may be; beyond these an apply is refused with the limit named."""

    max_bundle_bytes: int = 32 * 1024 * 1024
    max_resources: int = 5000

    def check_size(self, source: BundleSource) -> None:
        size = sum(len(c) for c in source.files.values())
        if size > self.max_bundle_bytes:
            raise InvalidInput(
                f"bundle {source.name} is {size / 2**20:.1f} MiB; the hub's limit is "
                f"{self.max_bundle_bytes / 2**20:.1f} MiB (argosy hub --max-bundle-bytes)"
            )

    def check_resources(self, name: str, count: int) -> None:
        if count > self.max_resources:
            raise InvalidInput(
                f"bundle {name} renders {count} resources; the hub's limit is "
                f"{self.max_resources} (argosy hub --max-resources)"
            )


def load_all(sources: Sequence[tuple[BundleSource, Mapping[str, str]]]) -> list[Bundle]:
    """Load every bundle of an apply, reporting the problems of all of them, not the first."""
    problems = Problems()
    loaded = []
    for source, labels in sources:
        with problems.check(f"bundle {source.name}: "):
            loaded.append(load_bundle(source, labels=labels))
    problems.raise_any()
    return loaded


async def plan(
    renderer: Renderer,
    bundles: Mapping[str, Bundle],
    clusters: Mapping[str, ClusterRecord],
    groups: Mapping[str, LabelSelector],
    *,
    strict: bool = False,
) -> Plan:
    """What each (cluster, bundle) pair should hold; None where the bundle does not reach.

    A pair that cannot be rendered is Unrendered: a cluster lacking what a template reads
    is that cluster's problem, never the apply's. Any other render failure is too, unless
    strict, when it is the caller's error: nothing of the change is stored.
    """
    out: Plan = {}
    refused = Problems()
    failed: dict[str, str] = {}  # render key -> error, so a failing input renders once
    for name, bundle in bundles.items():
        for cluster_id, cluster in clusters.items():
            target = target_for(bundle, cluster, groups)
            if target is None:
                out[(cluster_id, name)] = None
                continue
            if target.error:
                out[(cluster_id, name)] = Unrendered(target.error)
                continue
            rendered = renderer.cached(target)
            error = failed.get(target.render_key)
            if rendered is None and error is None:
                try:
                    rendered = await renderer.render(bundle, target)
                except InvalidInput as exc:
                    if strict:
                        # One failure per bundle is reported, every bundle's: rendering
                        # on for its other clusters would only repeat it, maybe 10,000 times.
                        where = f"bundle {name} for cluster {cluster.name}"
                        refused.found.extend(f"{where}: {p}" for p in exc.problems)
                        break
                    log.error("bundle %s for cluster %s: %s", name, cluster.name, exc)
                    error = failed[target.render_key] = str(exc)
            out[(cluster_id, name)] = rendered or Unrendered(error or "render failed")
    refused.raise_any()
    return out


async def probe(renderer: Renderer, bundle: Bundle) -> Rendered:
    """Render a bundle that reaches no cluster yet, to refuse a broken one before storing:
    as a cluster with no labels would get it, else (targets that such a cluster misses,
    templates that read its labels) with the bundle's own options."""
    target = target_for(bundle, PROBE_CLUSTER, {DEFAULT_GROUP: LabelSelector()})
    if target is None or target.error:
        target = base_target(bundle)
    return await renderer.render(bundle, target)


def overlapping(
    plan: Plan,
    *,
    cluster_name: Callable[[str], str],
    held: Callable[[str], Mapping[str, Rendered]],
) -> Iterator[tuple[str, str, Rendered, str, Rendered]]:
    """(cluster, applied bundle, its render, other bundle, its render) on every cluster the
    plan reaches: what overlap_warnings compares. `held(cluster)`: what the cluster's bundles
    render to now. O(bundles on those clusters), at apply."""
    for cluster_id, mine in by_cluster(plan).items():
        others = {other: r for other, r in held(cluster_id).items() if other not in mine}
        others.update(mine)
        for name, rendered in mine.items():
            for other, theirs in others.items():
                if other != name:
                    yield cluster_name(cluster_id), name, rendered, other, theirs
