"""Bringing the in-memory fleet in line with the store: once at start (`load`), then whenever
another hub replica on the same database changed something (hub/replication.py calls these
through the Fleet), applied here as if it had happened here.

Each replica holds the whole fleet in memory. What another replica committed is re-read from
the store and applied here without writing it back: the replica that made the change has stored
it (revisions included) before saying so.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from argosy.bundle import Bundle, BundleSource, load_bundle
from argosy.errors import InvalidInput
from argosy.selectors import LabelSelector
from hub.core.deployments import Deployment
from hub.core.inventory import DEFAULT_GROUP
from hub.core.planning import Unrendered
from hub.models import ClusterRecord, GroupRecord
from hub.persistence.protocol import Store
from hub.status import ClusterInfo

if TYPE_CHECKING:
    from hub.fleet import Fleet

log = logging.getLogger(__name__)


def same_cluster(a: ClusterRecord | None, b: ClusterRecord | None) -> bool:
    """Whether two records of a cluster differ in nothing a replica acts on. Pure.

    `last_seen` is left out: every hello and heartbeat moves it in the store (the write-behind)
    but it targets nothing. Comparing it made a cluster's late-arriving registration notice,
    and every cluster in a resync, a re-plan with the O(deployments) revision sweep.
    """
    if a is None or b is None:
        return a is b
    return dataclasses.replace(a, last_seen=b.last_seen) == b


class Reloading:
    def __init__(self, fleet: Fleet, store: Store) -> None:
        self._fleet = fleet
        self._store = store

    async def load(self) -> None:
        """Rebuild the in-memory fleet from the store, then re-derive every desired revision."""
        fleet = self._fleet
        snap = await fleet.store.load()
        inventory = fleet.inventory
        inventory.controls = {c.name: c for c in snap.controls}
        for rec in snap.bundles:
            try:
                bundle = await asyncio.to_thread(
                    load_bundle, BundleSource(rec.name, rec.files), labels=rec.labels
                )
            except InvalidInput as exc:
                log.error("stored bundle %s no longer loads, skipping it: %s", rec.name, exc)
                continue
            inventory.bundles[rec.name] = (rec, bundle)
            fleet.status.add_bundle(rec.name)
        recorded_offline = await fleet.events.recorded_offline()
        for cluster in snap.clusters:
            inventory.put_cluster(cluster)
            fleet.deployments.add_cluster(cluster.id)
            fleet.status.put_cluster(cluster.id, ClusterInfo(cluster.name, cluster.labels))
            # Every cluster starts disconnected: it is Offline unless it is back within grace
            # (here, or on another replica, which says so when it hears of this one). With
            # replicas about, the first live one records it (Liveness.down_at_start).
            fleet.liveness.down_at_start(cluster.id, recorded=cluster.name in recorded_offline)
        for group in snap.groups:
            inventory.groups[group.name] = group
        if DEFAULT_GROUP not in inventory.groups:
            group = GroupRecord(DEFAULT_GROUP, LabelSelector())
            await fleet.store.put_group(group)
            inventory.groups[DEFAULT_GROUP] = group
        for group in inventory.groups.values():
            fleet.status.put_group(group.name, inventory.members(group.selector))
        fleet.refresh_memberships(inventory.clusters)
        reported = {(d.cluster_id, d.bundle): d for d in snap.deployments}
        plan = await fleet.plan(inventory.loaded(), inventory.clusters)
        for (cluster_id, name), rendered in plan.items():
            row = reported.pop((cluster_id, name), None)
            if rendered is None:
                continue
            if isinstance(rendered, Unrendered):
                # The cluster keeps what it was last given, from the store when it is sent.
                dep = Deployment(name, cluster_id, row.desired if row else "")
                dep.render_error = rendered.error
            else:
                dep = Deployment(name, cluster_id, rendered.revision)
                fleet.revisions.keep(rendered)
            if row is not None:
                dep.acked, dep.error = row.acked, row.error
                dep.status_revision, dep.ready, dep.resources = (
                    row.status_revision,
                    row.ready,
                    row.resources,
                )
                dep.released = row.released
            # The deadline of a revision released before the restart starts again now.
            dep.released_at = time.monotonic()
            if not inventory.gated(name):
                dep.released = dep.desired
            fleet.deployments.add(dep)
            fleet.deployments.changed(dep)
        fleet.rollouts.refresh_dependents()
        fleet.rollouts.regate(*inventory.bundles)
        # Rows of pairs that no longer exist.
        for cluster_id, name in reported:
            fleet.writer.deleted(name, cluster_id)
        await fleet.store.put_resource_sets(
            {r.revision: r.encode() for r in fleet.revisions.live.values()}
        )
        log.info(
            "loaded %d bundles, %d clusters, %d groups",
            len(inventory.bundles),
            len(inventory.clusters),
            len(inventory.groups),
        )

    async def reload_bundle(self, name: str) -> None:
        """Another replica applied or deleted a bundle."""
        fleet = self._fleet
        rec = await self._store.load_bundle(name)
        bundle: Bundle | None = None
        if rec is not None:
            try:
                bundle = await asyncio.to_thread(
                    load_bundle, BundleSource(rec.name, rec.files), labels=rec.labels
                )
            except InvalidInput as exc:
                log.error("bundle %s from another replica does not load: %s", name, exc)
                return
        bundles = fleet.inventory.bundles
        async with fleet.lock:
            if rec is None or bundle is None:
                if name in bundles:
                    fleet.drop_bundle(name)
                return
            old = bundles.get(name)
            if old is not None and old[0] == rec:
                return
            plan = await fleet.plan({name: bundle}, fleet.inventory.clusters)
            bundles[name] = (rec, bundle)
            fleet.status.add_bundle(name)
            fleet.rollouts.refresh_dependents()
            fleet.commit(plan)
            fleet.rollouts.regate(name, ungated_too=True)

    async def reload_cluster(self, cluster_id: str) -> None:
        """Another replica registered, renewed, revoked or deleted a cluster."""
        fleet, inventory = self._fleet, self._fleet.inventory
        rec = await self._store.load_cluster(cluster_id)
        async with fleet.lock:
            old = inventory.clusters.get(cluster_id)
            if rec is None:
                if old is not None:
                    fleet.drop_cluster(cluster_id)
                return
            if same_cluster(old, rec):
                return
            inventory.put_cluster(rec)
            # The credential this replica's stream used is no longer the cluster's: cut it.
            replaced = old is not None and (
                old.credential_hash != rec.credential_hash or rec.revoked
            )
            if replaced:
                fleet.cut(cluster_id, "cluster re-registered or revoked on another replica")
            fleet.status.put_cluster(cluster_id, ClusterInfo(rec.name, rec.labels))
            fleet.refresh_memberships([cluster_id])
            fleet.commit(
                await fleet.plan(inventory.loaded(), {cluster_id: rec}), prune=old is not None
            )

    async def reload_group(self, name: str) -> None:
        """Another replica created, changed or deleted a group."""
        fleet, inventory = self._fleet, self._fleet.inventory
        rec = await self._store.load_group(name)
        async with fleet.lock:
            if rec is None:
                if name not in inventory.groups:
                    return
                inventory.drop_group(name)
                fleet.status.remove_group(name)
            else:
                if inventory.groups.get(name) == rec:
                    return
                fleet.status.put_group(name, inventory.put_group(rec))
            fleet.commit(await fleet.plan(inventory.loaded(), inventory.clusters))

    async def reload_control(self, name: str) -> None:
        """Another replica paused, resumed or halted a bundle's rollout, or pinned it."""
        fleet = self._fleet
        control = await self._store.load_control(name)
        if name not in fleet.inventory.bundles:
            return
        if control is None:
            fleet.inventory.controls.pop(name, None)
        else:
            fleet.inventory.controls[name] = control
        fleet.rollouts.regate(name, ungated_too=True)
        fleet.status.touch_bundle(name)  # watchers here see a pin change too

    async def import_deployments(self, keys: Sequence[tuple[str, str]]) -> None:
        """Another replica wrote what its spokes reported: show it here too."""
        rows = await self._store.load_deployments(keys)
        self._fleet.deployments.import_rows(rows, skip=self._fleet.liveness.listeners)

    def remote_retry(self, bundle: str, cluster_ids: Iterable[str]) -> None:
        """Another replica was asked to retry these clusters' failed deployment of bundle."""
        listeners = self._fleet.liveness.listeners
        for cluster_id in cluster_ids:
            listener = listeners.get(cluster_id)
            if listener is not None:
                listener.retry([bundle])

    def peer_gone(self, origin: str) -> None:
        """Replica `origin` stopped answering: its streams are down, its leases free."""
        fleet = self._fleet
        gone = [c for c, o in fleet.liveness.remote.items() if o == origin]
        fleet.liveness.remote_attached(origin, gone, attached=False, gone=True)
        fleet.rollouts.regate(*fleet.inventory.bundles)

    async def refresh_cluster(self, cluster_id: str) -> bool:
        """Re-read a cluster a spoke claims to be, when this replica does not know it (yet):
        it may have registered on another replica a moment ago. False for a lone hub."""
        if self._fleet.peers is None or not cluster_id:
            return False
        await self.reload_cluster(cluster_id)
        return True

    async def resync(self) -> None:
        """Catch up after the change feed was interrupted: re-read whatever differs."""
        fleet, inventory = self._fleet, self._fleet.inventory
        snap = await self._store.load()
        bundles = {b.name: b for b in snap.bundles}
        for name in sorted({*inventory.bundles, *bundles}):
            mine = inventory.bundles.get(name)
            if mine is None or bundles.get(name) != mine[0]:
                await self.reload_bundle(name)
        clusters = {c.id: c for c in snap.clusters}
        for cluster_id in sorted({*inventory.clusters, *clusters}):
            if not same_cluster(clusters.get(cluster_id), inventory.clusters.get(cluster_id)):
                await self.reload_cluster(cluster_id)
        groups = {g.name: g for g in snap.groups}
        for name in sorted({*inventory.groups, *groups}):
            if groups.get(name) != inventory.groups.get(name):
                await self.reload_group(name)
        controls = {c.name: c for c in snap.controls}
        for name in sorted({*inventory.controls, *controls}):
            if controls.get(name) != inventory.controls.get(name):
                await self.reload_control(name)
        fleet.deployments.import_rows(snap.deployments, skip=fleet.liveness.listeners)
        fleet.rollouts.regate(*inventory.bundles)
