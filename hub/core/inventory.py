"""The registry of bundles, clusters, groups and rollout controls: what the admin API changed.

Plain in-memory maps and the lookups derived from them (group selectors, gating, dependsOn). No
I/O: the use cases in hub/fleet.py store a change first, then record it here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from typing import Any

from argosy.bundle import Bundle, BundleOptions
from argosy.selectors import LabelSelector
from argosy.states import State
from hub.models import BundleControl, BundleRecord, ClusterRecord, GroupRecord

DEFAULT_GROUP = "default"


class Inventory:
    def __init__(self) -> None:
        self.bundles: dict[str, tuple[BundleRecord, Bundle]] = {}
        self.clusters: dict[str, ClusterRecord] = {}
        self.cluster_ids: dict[str, str] = {}
        self.groups: dict[str, GroupRecord] = {}
        # Operator decisions on rollouts (pause, halt), by bundle.
        self.controls: dict[str, BundleControl] = {}
        # Control writes (pause, halt, resume, pin) each change one field of the same record
        # and await the store in between: serialised, so none writes back a stale copy.
        self._control_lock = asyncio.Lock()
        # The groups each cluster belongs to, kept as groups and labels change, so the rollout
        # gate reads them without matching selectors.
        self.memberships: dict[str, frozenset[str]] = {}

    # --- clusters -----------------------------------------------------------------------------

    def put_cluster(self, record: ClusterRecord) -> ClusterRecord | None:
        """Record a cluster (new, re-registered or renamed); returns the record it replaced."""
        old = self.clusters.get(record.id)
        if old is not None and old.name != record.name:
            self.cluster_ids.pop(old.name, None)
        self.clusters[record.id] = record
        self.cluster_ids[record.name] = record.id
        return old

    def drop_cluster(self, cluster_id: str) -> None:
        del self.cluster_ids[self.clusters.pop(cluster_id).name]
        self.memberships.pop(cluster_id, None)

    def cluster_by_name(self, name: str) -> ClusterRecord | None:
        cluster_id = self.cluster_ids.get(name)
        return self.clusters.get(cluster_id) if cluster_id else None

    def cluster_name(self, cluster_id: str) -> str:
        cluster = self.clusters.get(cluster_id)
        return cluster.name if cluster else cluster_id

    # --- groups -------------------------------------------------------------------------------

    def selectors(self) -> dict[str, LabelSelector]:
        return {g.name: g.selector for g in self.groups.values()}

    def members(self, selector: LabelSelector) -> list[str]:
        return [c.id for c in self.clusters.values() if selector.matches(c.labels)]

    def groups_of(self, cluster_id: str) -> frozenset[str]:
        return self.memberships.get(cluster_id, frozenset())

    def refresh_memberships(self, cluster_ids: Iterable[str]) -> None:
        """Match these clusters (new, or with new labels) against every group."""
        for cluster_id in cluster_ids:
            labels = self.clusters[cluster_id].labels
            self.memberships[cluster_id] = frozenset(
                g.name for g in self.groups.values() if g.selector.matches(labels)
            )

    def put_group(self, group: GroupRecord) -> list[str]:
        """Define or redefine a group; returns its member cluster ids. O(clusters)."""
        self.groups[group.name] = group
        members = []
        for cluster_id, cluster in self.clusters.items():
            current = self.memberships.get(cluster_id, frozenset())
            if group.selector.matches(cluster.labels):
                members.append(cluster_id)
                if group.name not in current:
                    self.memberships[cluster_id] = current | {group.name}
            elif group.name in current:
                self.memberships[cluster_id] = current - {group.name}
        return members

    def drop_group(self, name: str) -> None:
        del self.groups[name]
        for cluster_id, current in self.memberships.items():
            if name in current:
                self.memberships[cluster_id] = current - {name}

    # --- bundles ------------------------------------------------------------------------------

    def loaded(self) -> dict[str, Bundle]:
        return {name: bundle for name, (_, bundle) in self.bundles.items()}

    def options(self, name: str) -> BundleOptions:
        return self.bundles[name][1].options

    async def update_control(
        self,
        name: str,
        put: Callable[[BundleControl], Awaitable[None]],
        **fields: Any,
    ) -> BundleControl:
        """Set only `fields` of the bundle's control on what it holds when the write starts,
        store it with `put`, then record it here; returns the new control."""
        async with self._control_lock:
            control = replace(self.controls.get(name, BundleControl(name)), **fields)
            await put(control)
            self.controls[name] = control
            return control

    def paused(self, name: str) -> bool:
        control = self.controls.get(name)
        if control is not None and control.paused is not None:
            return control.paused
        return self.options(name).paused

    def gated(self, name: str) -> bool:
        """Whether releases of this bundle go through the rollout gate (else: at once)."""
        if name not in self.bundles:
            return False
        options = self.options(name)
        control = self.controls.get(name)
        return bool(
            options.rollout_strategy is not None
            or options.depends_on
            or self.paused(name)
            or (control is not None and control.halted)
        )

    def bundle_labels(self, name: str) -> dict[str, str]:
        rec, bundle = self.bundles[name]
        return {**bundle.options.labels, **rec.labels}

    def dependencies(self, name: str) -> list[tuple[str, tuple[str, ...]]]:
        """(bundle, accepted states) for each bundle this one depends on."""
        out = []
        for ref in self.options(name).depends_on:
            accepted = ref.accepted_states or (State.READY,)
            if ref.name:
                out.append((ref.name, accepted))
            elif ref.selector is not None:
                out.extend(
                    (other, accepted)
                    for other in self.bundles
                    if other != name and ref.selector.matches(self.bundle_labels(other))
                )
        return out

    def dependents(self) -> dict[str, set[str]]:
        """For each bundle, the bundles that depend on it."""
        out: dict[str, set[str]] = {}
        for name in self.bundles:
            for dep_name, _ in self.dependencies(name):
                out.setdefault(dep_name, set()).add(name)
        return out
