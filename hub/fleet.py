"""The fleet: the hub's use cases, composed from the core (hub/core/) and shown in the status book.

This is the hub's one source of truth at run time, and a façade: each concern lives in its own
module of hub/core/, and this class only says in which order they change for one use case (an
apply, a registration, a spoke's ack). Admin calls change it under one lock (they are rare and
must not interleave); spoke acks and reports change it without awaiting (they are frequent) and
reach the store through the write-behind. Sessions are told which bundles to look at again; they
read the desired state from here when they are ready to send.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from argosy.bundle import Bundle, BundleSource
from argosy.errors import InvalidInput, NotFound, PermissionDenied, Problems, TemporaryError
from argosy.names import check_name
from argosy.selectors import LabelSelector
from argosy.states import State
from hub.clusters import Clusters
from hub.core import history, planning
from hub.core.deployments import Deployment, Deployments, StatusUpdate
from hub.core.events import DEFAULT_RETENTION, EventKind, EventLog
from hub.core.inventory import DEFAULT_GROUP, Inventory
from hub.core.liveness import Liveness
from hub.core.planning import Limits, Plan, Unrendered
from hub.core.ports import Listener, Peers
from hub.core.registration import Issuer, Registration
from hub.core.revisions import Revisions
from hub.core.rollouts import Rollouts
from hub.core.writebehind import WriteBehind
from hub.dryrun import Pair, PlannedChange, planned_replies
from hub.models import BundleControl, BundleRecord, ClusterRecord, GroupRecord, HistoryEntry
from hub.overlaps import overlap_warnings
from hub.persistence.protocol import Store
from hub.reloading import Reloading
from hub.rendered import Rendered
from hub.rendering import Renderer
from hub.sources.policy import COMMIT_LABEL, REPO_LABEL
from hub.status import StatusBook, explain

log = logging.getLogger(__name__)

SOURCE_LABELS = (REPO_LABEL, COMMIT_LABEL)
"""Labels only the git source sets: a repository adopts and deletes the bundles naming it."""

# StatusUpdate and Deployment are re-exported for the code that took them from here (bench).
__all__ = ["AppliedBundle", "Deployment", "Fleet", "Limits", "StatusUpdate"]


@dataclass(frozen=True)
class AppliedBundle:
    name: str
    revision: str
    changed: bool
    resource_count: int
    warnings: tuple[str, ...] = ()
    # Not stored, and why: the bundle is pinned by a rollback ('' when it was applied).
    skipped: str = ""
    # A dry run's verdicts (hub/dryrun.py); empty for an apply.
    planned: tuple[PlannedChange, ...] = ()


def _now() -> int:
    return int(time.time())


def _source_actor(labels: Mapping[str, str], *, commit: bool = True) -> str:
    """Who applied (or deleted) a bundle no caller is named for: its git repository
    (`repo/NAME@COMMIT`, the commit shortened), else nobody known. A delete names no commit:
    the label holds the one the bundle was last applied from, not the one that removed it."""
    repo = labels.get(REPO_LABEL, "")
    if not repo:
        return ""
    at = labels.get(COMMIT_LABEL, "") if commit else ""
    return f"repo/{repo}@{at[:12]}" if at else f"repo/{repo}"


def _ignore(seconds: float) -> None:
    pass


class Fleet:
    def __init__(
        self,
        *,
        store: Store,
        status: StatusBook,
        renderer: Renderer,
        offline_grace: float = 60.0,
        limits: Limits | None = None,
        issuer: Issuer | None = None,
        event_retention: int = DEFAULT_RETENTION,
        history_limit: int = 10,
    ) -> None:
        self.store = store
        self._history_limit = history_limit
        self._limits = limits or Limits()
        self.status = status
        self._renderer = renderer
        self.lock = asyncio.Lock()
        self.inventory = inventory = Inventory()
        self.deployments = deployments = Deployments(cluster_name=inventory.cluster_name)
        # The status book hears of a state change first, then the rollout gate (subscribed below).
        deployments.subscribe(status.state_changed)
        self.revisions = Revisions(store)
        self.events = EventLog(
            store,
            retention=event_retention,
            cluster_name=inventory.cluster_name,
            revision_of=self._desired_revision,
        )
        # Off while load() derives the stored deployments' states again: that is not news.
        self._deployment_events = False
        self.liveness = Liveness(
            inventory=inventory,
            deployments=deployments,
            presence=status,
            grace=offline_grace,
            on_offline=self._offline_event,
        )
        self.writer = WriteBehind(store, deployments, writes_rows=self._writes_rows)
        self.rollouts = Rollouts(
            store=store,
            inventory=inventory,
            deployments=deployments,
            liveness=self.liveness,
            touch_bundle=status.touch_bundle,
            on_halt=self._halt_event,
        )
        # Last: the event log hears of a state change after the gate has acted on it.
        deployments.subscribe(self._deployment_event)
        self.registration = Registration(store=store, inventory=inventory, issuer=issuer)
        # The cluster use cases (registration, renewal, revocation, deletion).
        clusters = Clusters(self)
        self.register = clusters.register
        self.renew = clusters.renew
        self.revoke_cluster = clusters.revoke_cluster
        self.delete_cluster = clusters.delete_cluster
        self.drop_cluster = clusters.drop_cluster
        self.set_cluster_labels = clusters.set_labels
        # Reads and replica entry points go straight to their owner, without a call through here.
        self.connected = self.liveness.connected
        self.offline = self.liveness.offline
        self.desired = deployments.of_cluster
        self.rendered = self.revisions.fetch
        self.rollout = self.rollouts.current
        self.authenticate = self.registration.authenticate
        self.authenticate_certificate = self.registration.authenticate_certificate
        self.create_token = self.registration.create_token
        self.tokens = self.registration.tokens
        self.revoke_token = self.registration.revoke_token
        self.cluster_by_name = inventory.cluster_by_name
        self._listeners = self.liveness.listeners  # read by bench/hubproc.py
        # For the metrics (hub/metrics.py), which the fleet does not know: the seconds from a
        # revision's release to the spoke's ack of it, and a count read at scrape time.
        self.observe_propagation: Callable[[float], None] = _ignore
        self.status_reports = 0
        self.acks_failed = 0
        # What other replicas did (hub/replication.py calls these).
        self.reloading = reloading = Reloading(self, store)
        self.reload_bundle = reloading.reload_bundle
        self.reload_cluster = reloading.reload_cluster
        self.reload_group = reloading.reload_group
        self.reload_control = reloading.reload_control
        self.import_deployments = reloading.import_deployments
        self.remote_retry = reloading.remote_retry
        self.peer_gone = reloading.peer_gone
        self.refresh_cluster = reloading.refresh_cluster
        self.resync = reloading.resync
        self.remote_released = self.rollouts.remote_released
        self.remote_attached = self.liveness.remote_attached
        status.explain = self._explain

    @property
    def peers(self) -> Peers | None:
        """The other replicas (set by hub.app with a shared store); None for a lone hub."""
        return self.rollouts.peers

    @peers.setter
    def peers(self, peers: Peers | None) -> None:
        self.rollouts.peers = peers
        self.events.shared = peers is not None
        self.liveness.first = (lambda: True) if peers is None else peers.first

    @property
    def rejected(self) -> int:
        """Acks and reports naming another cluster's deployment, refused."""
        return self.deployments.rejected

    # --- start and the loops --------------------------------------------------------------------

    async def load(self) -> None:
        """Rebuild the in-memory fleet from the store (at start)."""
        await self.reloading.load()
        self._deployment_events = True

    async def run_events(self, *, interval: float = 0.5) -> None:
        """Write the event log behind, one transaction per batch."""
        await self.events.run(interval=interval)

    async def run(self, *, interval: float = 0.25) -> None:
        """Write spoke-reported state behind, in one transaction per batch."""
        await self.writer.run(interval=interval)

    async def flush(self) -> None:
        await self.writer.flush()
        await self.events.flush()

    async def run_rollouts(self, *, window: float = 0.05) -> None:
        await self.rollouts.run(window=window)

    async def run_liveness(self, *, interval: float = 1.0) -> None:
        await self.liveness.run(interval=interval)

    def _writes_rows(self, cluster_id: str, detached: set[str]) -> bool:
        """Whether this hub writes the cluster's deployment rows. A lone hub writes them all;
        a replica only those of spokes it serves (or served until this batch), so it never
        overwrites a fresher row from the replica that holds the stream."""
        return self.peers is None or cluster_id in self.liveness.listeners or cluster_id in detached

    # --- what the event log hears -----------------------------------------------------------------

    def _desired_revision(self, bundle: str, cluster_id: str) -> str:
        dep = self.deployments.get(cluster_id, bundle)
        return dep.desired if dep is not None else ""

    def _deployment_event(
        self, bundle: str, cluster_id: str, old: State | None, new: State | None
    ) -> None:
        if not self._deployment_events:
            return
        if new is None and bundle not in self.inventory.bundles:
            return  # its BundleDeleted says it, once rather than once per cluster
        if self.peers is not None and cluster_id not in self.liveness.listeners:
            # Every replica sees every state change; the one holding the cluster's stream
            # (which writes its rows) records it.
            return
        self.events.deployment_changed(bundle, cluster_id, old, new)

    def _offline_event(self, cluster_id: str, offline: bool) -> None:
        self.events.record(
            EventKind.CLUSTER_OFFLINE if offline else EventKind.CLUSTER_ONLINE,
            cluster=self.inventory.cluster_name(cluster_id),
            message="its stream has been down past the grace period"
            if offline
            else "its stream is back",
        )

    def _halt_event(self, name: str, reason: str) -> None:
        entry = self.inventory.bundles.get(name)
        self.events.record(
            EventKind.ROLLOUT_HALTED,
            bundle=name,
            revision=entry[0].revision if entry else "",
            actor="hub",
            message=reason,
        )

    def _explain(self, name: str, cluster_id: str) -> str:
        dep = self.deployments.get(cluster_id, name)
        if dep is None:
            return ""
        return explain(dep, offline=self.liveness.offline(cluster_id))

    # --- planning and committing ----------------------------------------------------------------

    def refresh_memberships(self, cluster_ids: Iterable[str]) -> None:
        ids = list(cluster_ids)
        self.inventory.refresh_memberships(ids)
        for cluster_id in ids:
            self.status.set_groups(cluster_id, set(self.inventory.groups_of(cluster_id)))

    async def plan(
        self,
        bundles: Mapping[str, Bundle],
        clusters: Mapping[str, ClusterRecord],
        *,
        strict: bool = False,
    ) -> Plan:
        return await planning.plan(
            self._renderer, bundles, clusters, self.inventory.selectors(), strict=strict
        )

    async def commit_stored(self, plan: Plan, *, prune: bool = True) -> None:
        """Store the plan's new revisions, then commit it: a crash never leaves a deployment
        pointing at a revision the store cannot give back."""
        fresh = self.revisions.unstored(plan)
        if fresh:
            await self.store.put_resource_sets(fresh)
        self.commit(plan, prune=prune)

    def commit(self, plan: Plan, *, prune: bool = True) -> None:
        """Make the plan the desired state, and tell the sessions whose clusters it touched.

        prune=False skips the O(deployments) sweep of unreferenced revisions: a plan for one
        new cluster (a registration) cannot leave any revision unreferenced.
        """
        deployments, gated = self.deployments, self.inventory.gated
        touched: dict[str, list[str]] = {}
        for (cluster_id, name), rendered in plan.items():
            dep = deployments.get(cluster_id, name)
            if rendered is None:
                if dep is not None:
                    deployments.remove(cluster_id, name)
                    self.writer.deleted(name, cluster_id)
                    touched.setdefault(cluster_id, []).append(name)
                continue
            if isinstance(rendered, Unrendered):
                # Shown as an error; the cluster keeps what it holds, nothing is sent.
                if dep is None:
                    dep = deployments.add(Deployment(name, cluster_id, ""))
                    self.writer.undeleted(name, cluster_id)
                elif dep.render_error == rendered.error:
                    continue
                dep.render_error = rendered.error
                if gated(name):
                    self.rollouts.regate(name)
                deployments.changed(dep)
                continue
            self.revisions.keep(rendered)
            if dep is None:
                dep = deployments.add(Deployment(name, cluster_id, rendered.revision))
                self.writer.undeleted(name, cluster_id)
            elif dep.desired == rendered.revision and not dep.render_error:
                continue
            dep.render_error = ""
            dep.desired = rendered.revision
            if gated(name):
                self.rollouts.regate(name)
            else:
                dep.released, dep.released_at, dep.held = dep.desired, time.monotonic(), ""
            deployments.changed(dep)
            touched.setdefault(cluster_id, []).append(name)
        if prune:
            self.revisions.prune(deployments.wanted_revisions())
        self.writer.wake()
        for cluster_id, names in touched.items():
            self.liveness.notify(cluster_id, names)

    # --- bundles --------------------------------------------------------------------------------

    async def apply_bundles(
        self,
        sources: Sequence[tuple[BundleSource, Mapping[str, str]]],
        *,
        by_source: bool = False,
        actor: str = "",
        dry_run: bool = False,
    ) -> list[AppliedBundle]:
        """Create or update bundles, all or none; `actor` is recorded in their history.

        dry_run: check, plan and render exactly as an apply, then say what would change on
        each group of clusters alike (AppliedBundle.planned); store, send and record nothing.

        The git source's labels (argosy.io/repo, argosy.io/commit) are refused unless
        `by_source`: a repository adopts, and deletes, the bundles that carry its name.
        actor: who applied them, for the event log (a git source's are `repo/NAME@COMMIT`).
        A bundle pinned by a rollback is skipped, not stored: its result says so
        (`AppliedBundle.skipped`), and the other bundles of the apply go ahead.
        """
        names = [s.name for s, _ in sources]
        if len(set(names)) != len(names):
            raise InvalidInput("the same bundle name is given twice in one apply")
        # Before loading: a pinned bundle's new content is not even read.
        sources = [(s, labels) for s, labels in sources if not self.pinned(s.name)]
        for source, _ in sources:
            self._limits.check_size(source)
        loaded = await asyncio.to_thread(planning.load_all, sources)
        if not by_source:
            reserved = [
                f"bundle {b.name}: label {key!r} is set by the hub's git source only "
                "(argosy repo add), not by argosy apply or fleet.yaml labels"
                for b in loaded
                for key in SOURCE_LABELS
                if key in b.labels
            ]
            if reserved:
                raise InvalidInput.of(reserved)
        pairs: dict[str, list[Pair]] | None = {} if dry_run else None
        async with self.lock:
            # Again under the lock: a rollback may have pinned one while this one loaded.
            loaded = [b for b in loaded if not self.pinned(b.name)]
            applied, _ = (
                await self._apply(loaded, actor=actor, by_source=by_source, dry_run=pairs)
                if loaded
                else ([], {})
            )
            done = {a.name: a for a in applied}
            results = [done[n] if n in done else self._skipped(n) for n in names]
        if pairs is None:
            return results
        # YAML dumps and diffs of every group: seconds of CPU on a large fleet with
        # per-cluster values, so off the event loop and outside the lock.
        planned = await asyncio.to_thread(planned_replies, pairs)
        return [
            replace(r, planned=tuple(planned[r.name])) if r.name in planned else r for r in results
        ]

    def _skipped(self, name: str) -> AppliedBundle:
        rec = self.bundle(name)
        return AppliedBundle(
            name,
            rec.revision,
            False,
            rec.resource_count,
            skipped=history.pinned_message(name, self.pinned(name)),
        )

    async def _apply(
        self,
        loaded: Sequence[Bundle],
        *,
        actor: str,
        rollback_of: int = 0,
        by_source: bool = False,
        dry_run: dict[str, list[Pair]] | None = None,
    ) -> tuple[list[AppliedBundle], dict[str, int]]:
        """Store and commit loaded bundles, under the lock; returns their results and the
        history rev each changed bundle got. dry_run: store and commit nothing, and fill it
        with each bundle's (cluster, planned, held) for hub/dryrun.py instead."""
        now = _now()
        records: dict[str, tuple[BundleRecord, Bundle]] = {}
        results = []
        entries = []
        plan = await self.plan({b.name: b for b in loaded}, self.inventory.clusters, strict=True)
        # A bundle no cluster receives today is rendered all the same: a broken chart must
        # be refused now, not stored to fail on the first cluster that matches later.
        problems = Problems()
        probes: dict[str, Rendered] = {}
        reached = {n for (_, n), r in plan.items() if isinstance(r, Rendered)}
        for bundle in loaded:
            if bundle.name not in reached:
                with problems.check():
                    probes[bundle.name] = await planning.probe(self._renderer, bundle)
        problems.raise_any()
        warnings = overlap_warnings(
            planning.overlapping(
                plan, cluster_name=self.inventory.cluster_name, held=self._held_renders
            )
        )
        # The largest render of each bundle, in one pass over the plan.
        largest: dict[str, Rendered] = {}
        for (_, n), r in plan.items():
            if isinstance(r, Rendered) and (
                n not in largest or len(r.resources) > len(largest[n].resources)
            ):
                largest[n] = r
        for bundle in loaded:
            render = largest[bundle.name] if bundle.name in largest else probes[bundle.name]
            size = len(render.resources)
            self._limits.check_resources(bundle.name, size)
            old = self.inventory.bundles.get(bundle.name)
            changed = old is None or old[0].revision != bundle.revision
            record = BundleRecord(
                name=bundle.name,
                labels=dict(bundle.labels),
                files=dict(bundle.files),
                revision=bundle.revision,
                resource_count=size,
                created=old[0].created if old else now,
                updated=now if changed or old is None else old[0].updated,
            )
            records[bundle.name] = (record, bundle)
            if changed:
                entries.append(
                    HistoryEntry(
                        bundle=bundle.name,
                        rev=0,
                        revision=bundle.revision,
                        created=now,
                        actor=actor,
                        summary=history.summarize(render.resources.items.values()),
                        labels=dict(bundle.labels),
                        files=dict(bundle.files),
                        rollback_of=rollback_of,
                    )
                )
            results.append(
                AppliedBundle(
                    bundle.name,
                    bundle.revision,
                    changed,
                    size,
                    tuple(warnings.get(bundle.name, ())),
                )
            )
        if dry_run is not None:
            pairs = await self._pairs(plan)
            dry_run.update((r.name, pairs.get(r.name, [])) for r in results)
            return results, {}
        revs = await self.store.put_bundles(
            [r for r, _ in records.values()],
            self.revisions.unstored(plan),
            history=entries,
            history_limit=self._history_limit,
        )
        for name, entry in records.items():
            self.inventory.bundles[name] = entry
            self.status.add_bundle(name)
        self.rollouts.refresh_dependents()
        self.commit(plan)
        # A bundle that stopped being gated (fleet.yaml lost `paused`, say) releases what
        # it held back even when its revision did not change.
        self.rollouts.regate(*records, ungated_too=True)
        self._retry_failed(records)
        for a in results:
            # A repository re-applies its unchanged bundles on every new commit: only an
            # explicit apply of unchanged content (a retry) is news then.
            if a.changed or not by_source:
                labels = records[a.name][0].labels
                self.events.record(
                    EventKind.BUNDLE_APPLIED,
                    bundle=a.name,
                    revision=a.revision,
                    actor=actor or _source_actor(labels),
                    message=f"{a.resource_count} resources"
                    + (f", rollback to rev {rollback_of}" if rollback_of else "")
                    + ("" if a.changed else ", unchanged: failed applies retried"),
                )
        return results, revs

    async def _pairs(self, plan: Plan) -> dict[str, list[Pair]]:
        """Per bundle, each cluster's (name, planned, held) for a dry run: held is the revision
        its spoke acknowledged (what it holds, whatever the hub wants meanwhile)."""
        out: dict[str, list[Pair]] = {}
        for (cluster_id, bundle), planned in plan.items():
            dep = self.deployments.get(cluster_id, bundle)
            held = await self.revisions.fetch(dep.acked) if dep is not None else None
            out.setdefault(bundle, []).append(
                (self.inventory.cluster_name(cluster_id), planned, held)
            )
        return out

    def _held_renders(self, cluster_id: str) -> dict[str, Rendered]:
        """What each bundle on the cluster renders to now (those still in memory)."""
        return {
            name: rendered
            for name, dep in self.deployments.of_cluster(cluster_id).items()
            if (rendered := self.revisions.get(dep.desired)) is not None
        }

    def _retry_failed(self, names: Iterable[str]) -> None:
        """Have every spoke whose apply of these bundles failed apply it again now.

        Applying unchanged content is how a user says "try again" (the CRD a custom resource
        needed is there now, say). Only deployments with nothing new on its way: a new
        revision is an apply of its own. O(clusters of the bundle), on an admin call.
        """
        listeners, remote_ids = self.liveness.listeners, self.liveness.remote
        for name in names:
            remote = []
            for dep in self.deployments.of_bundle(name):
                if not dep.error or dep.render_error or dep.acked != dep.released:
                    continue
                listener = listeners.get(dep.cluster_id)
                if listener is not None:
                    listener.retry([name])
                elif dep.cluster_id in remote_ids:
                    remote.append(dep.cluster_id)
            if remote and self.peers is not None:
                self.peers.publish("retry", name, ids=remote)

    async def delete_bundle(self, name: str, *, actor: str = "") -> None:
        async with self.lock:
            entry = self.inventory.bundles.get(name)
            if entry is None:
                raise NotFound(f"bundle {name!r} not found")
            await self.store.delete_bundle(name)
            self.drop_bundle(name)
            self.events.record(
                EventKind.BUNDLE_DELETED,
                bundle=name,
                revision=entry[0].revision,
                actor=actor or _source_actor(entry[0].labels, commit=False),
            )

    def drop_bundle(self, name: str) -> None:
        del self.inventory.bundles[name]
        self.commit(dict.fromkeys(((c, name) for c in self.inventory.clusters), None))
        self.status.remove_bundle(name)
        self.inventory.controls.pop(name, None)
        self.rollouts.drop(name)
        self.deployments.drop_bundle(name)
        self.rollouts.refresh_dependents()

    # --- history, rollback and pins (hub/core/history.py) ----------------------------------------

    def pinned(self, name: str) -> int:
        """The history rev a rollback pinned the bundle at; 0 when it is not pinned."""
        control = self.inventory.controls.get(name)
        return control.pinned if control is not None and name in self.inventory.bundles else 0

    async def history(self, name: str) -> tuple[list[HistoryEntry], int]:
        """A bundle's history, oldest first, and the rev it runs now. Read from the store, so
        every replica answers alike."""
        rec = self.bundle(name)
        entries = await self.store.list_history(name)
        return entries, history.current_rev(entries, rec.revision)

    async def rollback(
        self, name: str, *, to: int = 0, actor: str = ""
    ) -> tuple[AppliedBundle, int, int]:
        """Apply an earlier revision's content again (rev `to`, or the previous one) through
        the ordinary apply (targets, rollout strategy, partitions), as a new history entry,
        and pin the bundle at it. Returns the result, the rev it is pinned at (the new
        entry's) and the rev it rolled back to.

        The pin is stored after the apply: a crash between the two leaves the rollback
        applied but not pinned (shown in history), never a pin without its content.
        """
        async with self.lock:
            self.bundle(name)  # NotFound first
            entries = await self.store.list_history(name)
            target = history.rollback_target(name, entries, to)
            # Another replica may have applied it since this one last heard: the apply below
            # would compare against stale content (and record nothing when it matches).
            if self.bundle(name).revision != entries[-1].revision:
                raise TemporaryError(
                    f"bundle {name!r} changed meanwhile (on another replica); try again"
                )
            source = BundleSource(name, target.files)
            self._limits.check_size(source)  # the limit may be lower than when it was applied
            loaded = await asyncio.to_thread(planning.load_all, [(source, target.labels)])
            applied, revs = await self._apply(loaded, actor=actor, rollback_of=target.rev)
            rev = revs[name]
            await self.inventory.update_control(name, self.store.put_bundle_control, pinned=rev)
            self.status.touch_bundle(name)
            return applied[0], rev, target.rev

    async def unpin(self, name: str) -> bool:
        """Let new applies and commits of a bundle through again; whether it was pinned.
        It applies nothing itself: the next apply or commit does."""
        async with self.lock:
            control = self._control(name)
            if not control.pinned:
                return False
            await self.inventory.update_control(name, self.store.put_bundle_control, pinned=0)
            self.status.touch_bundle(name)
            return True

    def bundle_diff(self, name: str, cluster: str = "") -> list[tuple[str, Deployment]]:
        """(cluster name, deployment) of the bundle's deployments with a modified resource, or
        the one on `cluster` whatever it holds. Their resources carry the drift the spokes
        last reported (paths and diff, in memory only)."""
        self.bundle(name)
        if cluster:
            record = self.inventory.cluster_by_name(cluster)
            if record is None:
                raise NotFound(f"cluster {cluster!r} not found")
            dep = self.deployments.get(record.id, name)
            if dep is None:
                raise NotFound(f"bundle {name!r} does not target cluster {cluster!r}")
            return [(cluster, dep)]
        return sorted(
            (
                (self.inventory.cluster_name(dep.cluster_id), dep)
                for dep in self.deployments.of_bundle(name)
                if any(r.modified for r in dep.resources)
            ),
            key=lambda pair: pair[0],
        )

    def bundles(self) -> list[BundleRecord]:
        return [rec for rec, _ in sorted(self.inventory.bundles.values(), key=lambda e: e[0].name)]

    def bundle(self, name: str) -> BundleRecord:
        entry = self.inventory.bundles.get(name)
        if entry is None:
            raise NotFound(f"bundle {name!r} not found")
        return entry[0]

    # --- rollouts and pause ---------------------------------------------------------------------

    def paused(self, name: str) -> bool:
        return name in self.inventory.bundles and self.inventory.paused(name)

    async def set_paused(self, name: str, paused: bool) -> None:
        self._control(name)  # NotFound first
        await self._put_control(name, paused=paused)  # keeps any pin and halt

    async def resume_rollout(self, name: str, *, actor: str = "") -> None:
        control = self._control(name)
        await self._put_control(name, halted="")
        self.events.record(
            EventKind.ROLLOUT_RESUMED,
            bundle=name,
            revision=self.inventory.bundles[name][0].revision,
            actor=actor,
            message=f"was halted: {control.halted}" if control.halted else "was not halted",
        )

    def _control(self, name: str) -> BundleControl:
        if name not in self.inventory.bundles:
            raise NotFound(f"bundle {name!r} not found")
        return self.inventory.controls.get(name, BundleControl(name))

    async def _put_control(self, name: str, **fields: Any) -> None:
        await self.inventory.update_control(name, self.store.put_bundle_control, **fields)
        self.rollouts.regate(name, ungated_too=True)

    # --- clusters -------------------------------------------------------------------------------

    def clusters(self) -> list[ClusterRecord]:
        return sorted(self.inventory.clusters.values(), key=lambda c: c.name)

    def cluster(self, cluster_id: str) -> ClusterRecord | None:
        return self.inventory.clusters.get(cluster_id)

    # --- groups ---------------------------------------------------------------------------------

    async def put_group(self, name: str, selector: LabelSelector) -> GroupRecord:
        check_name(name, what="group name")
        async with self.lock:
            group = GroupRecord(name, selector)
            await self.store.put_group(group)
            self.status.put_group(name, self.inventory.put_group(group))
            await self.commit_stored(
                await self.plan(self.inventory.loaded(), self.inventory.clusters)
            )
            return group

    async def delete_group(self, name: str) -> None:
        if name == DEFAULT_GROUP:
            raise PermissionDenied(f"the {DEFAULT_GROUP!r} group is built in and cannot be deleted")
        async with self.lock:
            if name not in self.inventory.groups:
                raise NotFound(f"group {name!r} not found")
            await self.store.delete_group(name)
            self.inventory.drop_group(name)
            self.status.remove_group(name)
            await self.commit_stored(
                await self.plan(self.inventory.loaded(), self.inventory.clusters)
            )

    def groups(self) -> list[GroupRecord]:
        return sorted(self.inventory.groups.values(), key=lambda g: g.name)

    # --- spokes ---------------------------------------------------------------------------------

    def attach(self, cluster_id: str, listener: Listener) -> None:
        """Make listener the cluster's one live session; a second stream replaces the first."""
        self.liveness.attach(cluster_id, listener)
        if self.peers is not None:
            self.peers.publish("attach", ids=[cluster_id])

    def detach(self, cluster_id: str, listener: Listener) -> None:
        if not self.liveness.detach(cluster_id, listener):
            return
        self.writer.detached(cluster_id)
        if self.peers is not None:
            self.peers.publish("detach", ids=[cluster_id])
        if cluster_id in self.inventory.clusters:
            self.deployments.on_stream_closed(cluster_id)

    def cut(self, cluster_id: str, reason: str) -> bool:
        """Close the cluster's stream here, if any (its credential is no longer good), and
        detach it as a stream that ended would be: other replicas and status see it gone."""
        listener = self.liveness.listeners.get(cluster_id)
        if listener is None:
            return False
        listener.close(reason)
        self.detach(cluster_id, listener)
        return True

    # Methods, not attributes bound to the deployments' own: bench/hubproc.py wraps them on the
    # class to observe acks and reports. One call frame each.
    def on_ack(self, cluster_id: str, *, bundle: str, revision: str, error: str) -> None:
        if error:
            self.acks_failed += 1
        else:
            # Release to the first ack that applied it (a failed apply's retry included).
            dep = self.deployments.get(cluster_id, bundle)
            if (
                dep is not None
                and revision
                and revision == dep.released
                and (dep.acked != revision or dep.error)
                and dep.released_at  # after a restart, from the load: a lower bound then
            ):
                self.observe_propagation(time.monotonic() - dep.released_at)
        self.deployments.on_ack(cluster_id, bundle=bundle, revision=revision, error=error)

    def on_status(self, cluster_id: str, updates: Iterable[StatusUpdate]) -> None:
        self.status_reports += 1
        self.deployments.on_status(cluster_id, updates)

    def on_sent(self, cluster_id: str, bundle: str, revision: str) -> None:
        self.deployments.on_sent(cluster_id, bundle, revision)

    def on_hello(self, cluster_id: str, applied: Mapping[str, str]) -> None:
        self.deployments.on_hello(cluster_id, applied)
        self.writer.seen(cluster_id)

    def on_heartbeat(self, cluster_id: str) -> None:
        self.writer.seen(cluster_id)
        if cluster_id in self.liveness.heard:
            self.liveness.heard[cluster_id] = time.monotonic()

    def last_seen(self, cluster_id: str) -> int:
        """When the cluster last said hello or sent a heartbeat here (unix seconds), else when
        the store last saw it; 0 if never."""
        seen = self.writer.last_seen.get(cluster_id)
        if seen is not None:
            return seen
        record = self.inventory.clusters.get(cluster_id)
        return record.last_seen if record is not None else 0

    def deployment(self, cluster_id: str, bundle: str) -> Deployment | None:
        return self.deployments.get(cluster_id, bundle)

    def attached_here(self) -> list[str]:
        """The clusters whose stream this replica holds."""
        return list(self.liveness.listeners)
