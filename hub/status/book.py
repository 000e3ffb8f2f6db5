"""The status roll-ups, kept incrementally: O(groups of a cluster) per deployment state change.

Recomputing from every deployment on each report would be O(N) per event, which does not hold at
10,000 clusters. Every change also marks what it touched as dirty, so watchers get coalesced
deltas instead of snapshots.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from argosy.states import State
from hub.states import RANK, READY, STATES, worst

SUMMARY_NAMES = 3
# A cluster that never connected: a cluster state, not a deployment's (argosy.states.State).
WAIT_CHECK_IN = "WaitCheckIn"


@dataclass
class ClusterInfo:
    name: str
    labels: Mapping[str, str]
    connected: bool = False
    ever_connected: bool = False
    offline: bool = False


@dataclass(frozen=True)
class BundleView:
    name: str
    clusters_ready: int
    clusters_desired: int
    state: str
    summary: str
    state_counts: Mapping[str, int]


@dataclass(frozen=True)
class ClusterView:
    name: str
    labels: Mapping[str, str]
    state: str
    bundles_ready: int
    bundles_desired: int
    connected: bool
    offline: bool = False


@dataclass(frozen=True)
class GroupView:
    name: str
    cluster_count: int
    bundles_ready: int
    bundles_desired: int
    state: str


@dataclass
class _Tally:
    counts: Counter[str] = field(default_factory=Counter)

    def move(self, old: str | None, new: str | None) -> None:
        if old is not None:
            self.counts[old] -= 1
            if not self.counts[old]:
                del self.counts[old]
        if new is not None:
            self.counts[new] += 1

    @property
    def desired(self) -> int:
        return sum(self.counts.values())

    @property
    def ready(self) -> int:
        return self.counts.get(READY, 0)

    def worst(self) -> str:
        return worst(self.counts)


def summarize(members: Mapping[str, set[str]], counts: Mapping[str, int]) -> str:
    """'NotReady: 1 (cluster-b); Modified: 2 (c1, c2)': the non-ready states, worst first."""
    parts = []
    for state in STATES:
        if state == READY or not counts.get(state):
            continue
        names = sorted(members.get(state, ()))
        shown = ", ".join(names[:SUMMARY_NAMES])
        more = f", +{len(names) - SUMMARY_NAMES} more" if len(names) > SUMMARY_NAMES else ""
        parts.append(f"{state}: {counts[state]} ({shown}{more})")
    return "; ".join(parts)


class StatusBook:
    """Per-bundle, per-cluster and per-group tallies of deployment states."""

    def __init__(self) -> None:
        self._states: dict[tuple[str, str], str] = {}
        self._bundles: dict[str, _Tally] = {}
        self._bundle_members: dict[str, dict[str, set[str]]] = {}
        self._clusters: dict[str, ClusterInfo] = {}
        self._ids_by_name: dict[str, str] = {}
        self._cluster_tallies: dict[str, _Tally] = {}
        self._groups: dict[str, _Tally] = {}
        self._group_members: dict[str, set[str]] = {}
        self._cluster_groups: dict[str, set[str]] = {}
        self.dirty_bundles: set[str] = set()
        self.dirty_clusters: set[str] = set()
        self.dirty_groups: set[str] = set()
        self.removed_bundles: set[str] = set()
        self.removed_clusters: set[str] = set()
        self.removed_groups: set[str] = set()
        self.changed = asyncio.Event()
        # Per cluster, the book's change count when it was last touched: a cache of anything
        # derived from one cluster's view (hub/watch.py ClusterPbs) is fresh while it matches.
        # One counter for all, so a cluster removed and added again never reuses a version.
        self._version = 0
        self._cluster_versions: dict[str, int] = {}
        # The same counter per bundle (any of its deployments or its rollout touched), and for
        # what every bundle's per-cluster rows show of a cluster (its name, labels, offline):
        # the dashboard keeps a bundle's sorted rows while both are unchanged.
        self._bundle_versions: dict[str, int] = {}
        self.roster_version = 0
        # Says what is wrong with one deployment, for the summary; set by the fleet.
        self.explain: Callable[[str, str], str] = lambda bundle, cluster_id: ""

    # --- updates -------------------------------------------------------------------------------

    def _touch(self, *, bundle: str | None = None, cluster: str | None = None) -> None:
        if bundle is not None:
            self.dirty_bundles.add(bundle)
            self._version += 1
            self._bundle_versions[bundle] = self._version
        if cluster is not None:
            self.dirty_clusters.add(cluster)
            self.dirty_groups.update(self._cluster_groups.get(cluster, ()))
            self._version += 1
            self._cluster_versions[cluster] = self._version
        self.changed.set()

    def add_bundle(self, bundle: str) -> None:
        self._bundles.setdefault(bundle, _Tally())
        self._bundle_members.setdefault(bundle, {})
        self.removed_bundles.discard(bundle)
        self._touch(bundle=bundle)

    def remove_bundle(self, bundle: str) -> None:
        for b, cluster_id in [k for k in self._states if k[0] == bundle]:
            self.set_state(b, cluster_id, None)
        self._bundles.pop(bundle, None)
        self._bundle_members.pop(bundle, None)
        self._version += 1
        self._bundle_versions.pop(bundle, None)
        self.dirty_bundles.discard(bundle)
        self.removed_bundles.add(bundle)
        self.changed.set()

    def put_cluster(self, cluster_id: str, info: ClusterInfo) -> None:
        """Show a cluster, or a known one's new name and labels: its presence (connected,
        ever connected, offline) stays as the presence calls left it."""
        old = self._clusters.get(cluster_id)
        if old is not None:
            if old.name != info.name:
                self.removed_clusters.add(old.name)
            info = ClusterInfo(
                info.name,
                info.labels,
                connected=old.connected,
                ever_connected=old.ever_connected,
                offline=old.offline,
            )
        self._clusters[cluster_id] = info
        self._ids_by_name[info.name] = cluster_id
        self._cluster_tallies.setdefault(cluster_id, _Tally())
        self.removed_clusters.discard(info.name)
        self._version += 1
        self.roster_version = self._version
        self._touch(cluster=cluster_id)

    def set_connected(self, cluster_id: str, connected: bool) -> None:
        info = self._clusters[cluster_id]
        info.connected = connected
        info.ever_connected = info.ever_connected or connected
        self._touch(cluster=cluster_id)

    def set_offline(self, cluster_id: str, offline: bool) -> None:
        self._clusters[cluster_id].offline = offline
        self._version += 1
        self.roster_version = self._version
        self._touch(cluster=cluster_id)

    def touch_bundle(self, bundle: str) -> None:
        """Something shown with the bundle (its rollout) changed."""
        self._touch(bundle=bundle)

    def remove_cluster(self, cluster_id: str) -> None:
        for bundle, c in [k for k in self._states if k[1] == cluster_id]:
            self.set_state(bundle, c, None)
        self.set_groups(cluster_id, set())
        info = self._clusters.pop(cluster_id, None)
        self._cluster_tallies.pop(cluster_id, None)
        self._cluster_versions.pop(cluster_id, None)
        self._version += 1
        self.roster_version = self._version
        self.dirty_clusters.discard(cluster_id)
        if info is not None:
            self.removed_clusters.add(info.name)
            self._ids_by_name.pop(info.name, None)
        self.changed.set()

    def set_state(self, bundle: str, cluster_id: str, state: str | None) -> None:
        """Record a deployment's state (None: it no longer exists) and move every tally."""
        self.state_changed(bundle, cluster_id, None, state)

    def state_changed(
        self, bundle: str, cluster_id: str, announced: str | None, state: str | None
    ) -> None:
        """The book subscribes to the deployments' StateChanged (hub/core/deployments.py). The
        old state it moves tallies from is its own record, not the one announced."""
        key = (bundle, cluster_id)
        old = self._states.get(key)
        if old == state:
            return
        if state is None:
            del self._states[key]
        else:
            self._states[key] = state
        name = self._clusters[cluster_id].name
        self._bundles.setdefault(bundle, _Tally()).move(old, state)
        members = self._bundle_members.setdefault(bundle, {})
        if old is not None and old != READY:
            members[old].discard(name)
        if state is not None and state != READY:
            members.setdefault(state, set()).add(name)
        self._cluster_tallies.setdefault(cluster_id, _Tally()).move(old, state)
        for group in self._cluster_groups.get(cluster_id, ()):
            self._groups[group].move(old, state)
        self._touch(bundle=bundle, cluster=cluster_id)

    def put_group(self, group: str, members: Iterable[str]) -> None:
        """Define or redefine a group by its member cluster ids; O(members)."""
        self.remove_group(group)
        self.removed_groups.discard(group)
        self._groups[group] = _Tally()
        self._group_members[group] = set()
        for cluster_id in members:
            self._join(group, cluster_id)
        self.dirty_groups.add(group)
        self.changed.set()

    def remove_group(self, group: str) -> None:
        for cluster_id in list(self._group_members.get(group, ())):
            self._leave(group, cluster_id)
        if self._groups.pop(group, None) is not None:
            self.removed_groups.add(group)
        self._group_members.pop(group, None)
        self.dirty_groups.discard(group)
        self.changed.set()

    def set_groups(self, cluster_id: str, groups: set[str]) -> None:
        """The groups a cluster belongs to, after its labels or the groups changed."""
        current = self._cluster_groups.get(cluster_id, set())
        for group in current - groups:
            self._leave(group, cluster_id)
        for group in groups - current:
            self._join(group, cluster_id)

    def _join(self, group: str, cluster_id: str) -> None:
        self._group_members[group].add(cluster_id)
        self._cluster_groups.setdefault(cluster_id, set()).add(group)
        tally = self._cluster_tallies.get(cluster_id)
        if tally is not None:
            self._groups[group].counts.update(tally.counts)
        self.dirty_groups.add(group)

    def _leave(self, group: str, cluster_id: str) -> None:
        self._group_members[group].discard(cluster_id)
        self._cluster_groups.get(cluster_id, set()).discard(group)
        tally = self._cluster_tallies.get(cluster_id)
        if tally is not None:
            self._groups[group].counts.subtract(tally.counts)
            self._groups[group].counts = +self._groups[group].counts
        self.dirty_groups.add(group)

    # --- views ---------------------------------------------------------------------------------

    def state_of(self, bundle: str, cluster_id: str) -> str | None:
        return self._states.get((bundle, cluster_id))

    def bundle_names(self) -> list[str]:
        return sorted(self._bundles)

    def cluster_ids(self) -> list[str]:
        return sorted(self._clusters, key=lambda c: self._clusters[c].name)

    def group_names(self) -> list[str]:
        return sorted(self._groups)

    def state_counts(self, bundle: str) -> Mapping[str, int]:
        """How many of the bundle's deployments are in each state (a copy; O(states))."""
        tally = self._bundles.get(bundle)
        return dict(tally.counts) if tally is not None else {}

    def every_not_ready(self) -> Iterator[tuple[str, str, str]]:
        """(bundle, state, cluster name) of every deployment that is not Ready: O(those), from
        the members the summaries keep, never a walk over every deployment."""
        for bundle, members in self._bundle_members.items():
            for state, names in members.items():
                for name in names:
                    yield bundle, state, name

    def bundle_view(self, bundle: str) -> BundleView | None:
        tally = self._bundles.get(bundle)
        if tally is None:
            return None
        counts = dict(sorted(tally.counts.items(), key=lambda kv: RANK[kv[0]]))
        members = self._bundle_members.get(bundle, {})
        summary = summarize(members, counts)
        worst_state = tally.worst()
        if worst_state != READY and members.get(worst_state):
            # Fleet-style detail: what is wrong on the first cluster in the worst state.
            first = min(members[worst_state])
            cluster_id = self._ids_by_name.get(first)
            detail = self.explain(bundle, cluster_id) if cluster_id else ""
            if detail:
                summary = f"{summary}; {first}: {detail}"
        return BundleView(
            name=bundle,
            clusters_ready=tally.ready,
            clusters_desired=tally.desired,
            state=worst_state,
            summary=summary,
            state_counts=counts,
        )

    def not_ready(self, bundle: str) -> dict[str, frozenset[str]]:
        """A bundle's clusters (by name) in each state but Ready: what needs attention, found
        without a walk over every cluster."""
        members = self._bundle_members.get(bundle, {})
        return {state: frozenset(names) for state, names in members.items() if names}

    def bundle_version(self, bundle: str) -> int:
        """Changes whenever any of the bundle's deployment states, or its rollout, may have
        (0: unknown)."""
        return self._bundle_versions.get(bundle, 0)

    def cluster_version(self, cluster_id: str) -> int:
        """Changes whenever the cluster's view may have (0: never touched, or unknown)."""
        return self._cluster_versions.get(cluster_id, 0)

    def cluster_view(self, cluster_id: str) -> ClusterView | None:
        info = self._clusters.get(cluster_id)
        if info is None:
            return None
        tally = self._cluster_tallies[cluster_id]
        state: str
        if info.offline:
            state = State.OFFLINE
        elif not info.ever_connected:
            state = WAIT_CHECK_IN
        else:
            state = tally.worst()
        return ClusterView(
            name=info.name,
            labels=info.labels,
            state=state,
            bundles_ready=tally.ready,
            bundles_desired=tally.desired,
            connected=info.connected,
            offline=info.offline,
        )

    def group_view(self, group: str) -> GroupView | None:
        tally = self._groups.get(group)
        if tally is None:
            return None
        members = self._group_members[group]
        return GroupView(
            name=group,
            cluster_count=len(members),
            bundles_ready=tally.ready,
            bundles_desired=tally.desired,
            state=tally.worst() if members else "",
        )

    def take_dirty(self) -> tuple[set[str], set[str], set[str], set[str], set[str], set[str]]:
        """Everything changed since the last call: (bundles, clusters, groups, and removed ones)."""
        out = (
            self.dirty_bundles,
            self.dirty_clusters,
            self.dirty_groups,
            self.removed_bundles,
            self.removed_clusters,
            self.removed_groups,
        )
        self.dirty_bundles, self.dirty_clusters, self.dirty_groups = set(), set(), set()
        self.removed_bundles, self.removed_clusters, self.removed_groups = set(), set(), set()
        self.changed.clear()
        return out
