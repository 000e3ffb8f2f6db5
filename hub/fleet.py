"""The fleet: bundles, clusters, groups and deployments, held in memory and written through.

This is the hub's one source of truth at run time. Admin calls change it under one lock (they
are rare and must not interleave); spoke acks and reports change it without awaiting (they are
frequent) and reach the store through a write-behind batch. Sessions are told which bundles to
look at again; they read the desired state from here when they are ready to send.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from argosy.bundle import Bundle, BundleOptions, BundleSource, load_bundle
from argosy.errors import InvalidInput, NotFound, PermissionDenied, Problems, Unauthenticated
from argosy.manifests import describe_key
from argosy.names import check_labels, check_name
from argosy.selectors import LabelSelector
from hub import auth
from hub.models import (
    BundleControl,
    BundleRecord,
    ClusterRecord,
    DeploymentRecord,
    GroupRecord,
    ResourceStateRecord,
    RevokedName,
    TokenRecord,
)
from hub.overlaps import by_cluster, overlap_warnings
from hub.rendered import LruCache, Rendered
from hub.rendering import PROBE_CLUSTER, Renderer, base_target, target_for
from hub.rollout import Candidate, Progress, RolloutPlan, plan_rollout
from hub.states import ERR_APPLIED, READY, DeploymentFacts, deployment_state
from hub.status import ClusterInfo, StatusBook
from hub.store import Store

log = logging.getLogger(__name__)

DEFAULT_GROUP = "default"
# States in which a released deployment is still on its way to Ready: past
# progressDeadlineSeconds in one of these, it counts as a failure of the rollout.
STALLED = frozenset({"WaitApplied", "NotReady"})


class Listener(Protocol):
    """A connected spoke's session, as the fleet sees it."""

    def notify(self, bundles: Iterable[str]) -> None: ...
    def retry(self, bundles: Iterable[str]) -> None: ...
    def close(self, reason: str) -> None: ...


class Peers(Protocol):
    """The other hub replicas on the same database (hub/replication.py); None for a lone hub."""

    def publish(
        self, kind: str, name: str = "", *, ids: Sequence[str] = (), revision: str = ""
    ) -> None:
        """Tell the other replicas about a change; never waits (sent in order, soon after)."""
        ...

    async def lead(self, bundle: str) -> bool:
        """Whether this replica holds the lease to decide the bundle's rollout releases."""
        ...


@dataclass
class Deployment:
    """One bundle on one cluster. `sent` is what this hub last sent on the live stream."""

    bundle: str
    cluster_id: str
    desired: str
    sent: str = ""
    acked: str = ""
    error: str = ""
    status_revision: str = ""
    ready: bool = False
    resources: tuple[ResourceStateRecord, ...] = ()
    # What the rollout has let through: desired, or an older revision while held back.
    released: str = ""
    released_at: float = 0.0
    # Why desired is not released yet ('' when it is).
    held: str = ""
    held_by_dependency: bool = False
    # When it became Ready at the desired revision (monotonic), for bakeSeconds.
    ready_since: float | None = None
    # When it last stopped being Ready (monotonic), for progressDeadlineSeconds.
    left_ready_at: float = 0.0
    # Why the bundle cannot be rendered for this cluster now ('' when it can); the cluster
    # keeps what it holds meanwhile.
    render_error: str = ""

    def stalled_since(self, state: str | None) -> float | None:
        """Since when a released deployment has been applying or NotReady (None: it is not)."""
        if self.released != self.desired or state not in STALLED:
            return None
        return max(self.released_at, self.left_ready_at)

    def facts(self, *, offline: bool = False) -> DeploymentFacts:
        return DeploymentFacts(
            desired=self.desired,
            sent=self.sent,
            acked=self.acked,
            error=self.error,
            status_revision=self.status_revision,
            ready=self.ready,
            modified=any(r.modified for r in self.resources),
            released=self.released,
            held_by_dependency=self.held_by_dependency,
            offline=offline,
            render_error=self.render_error,
        )

    def record(self) -> DeploymentRecord:
        return DeploymentRecord(
            bundle=self.bundle,
            cluster_id=self.cluster_id,
            desired=self.desired,
            acked=self.acked,
            error=self.error,
            status_revision=self.status_revision,
            ready=self.ready,
            resources=self.resources,
            released=self.released,
        )


@dataclass(frozen=True)
class Unrendered:
    """A pair the bundle targets but cannot be rendered for (a template reads a label the
    cluster lacks, say): a deployment in error, shown, never left out."""

    error: str


Plan = dict[tuple[str, str], Rendered | Unrendered | None]


@dataclass(frozen=True)
class AppliedBundle:
    name: str
    revision: str
    changed: bool
    resource_count: int
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class StatusUpdate:
    """One deployment's state as a spoke reported it."""

    bundle: str
    revision: str
    ready: bool
    apply_error: str
    resources: tuple[ResourceStateRecord, ...] = field(default=())


def _load_all(sources: Sequence[tuple[BundleSource, Mapping[str, str]]]) -> list[Bundle]:
    """Load every bundle of an apply, reporting the problems of all of them, not the first."""
    problems = Problems()
    loaded = []
    for source, labels in sources:
        with problems.check(f"bundle {source.name}: "):
            loaded.append(load_bundle(source, labels=labels))
    problems.raise_any()
    return loaded


def _now() -> int:
    return int(time.time())


@dataclass(frozen=True)
class Limits:
    """What one bundle may be; beyond these an apply is refused with the limit named."""

    max_bundle_bytes: int = 32 * 1024 * 1024
    max_resources: int = 5000


class Fleet:
    def __init__(
        self,
        *,
        store: Store,
        status: StatusBook,
        renderer: Renderer,
        offline_grace: float = 60.0,
        limits: Limits | None = None,
        issuer: Callable[[bytes, str], tuple[bytes, str]] | None = None,
    ) -> None:
        self._store = store
        self._limits = limits or Limits()
        # Signs cluster CSRs (a TLS hub); None: bearer credentials (--insecure).
        self._issuer = issuer
        # Acks and reports naming another cluster's deployment, refused.
        self.rejected = 0
        self.status = status
        self._renderer = renderer
        self._lock = asyncio.Lock()
        self._bundles: dict[str, tuple[BundleRecord, Bundle]] = {}
        self._clusters: dict[str, ClusterRecord] = {}
        self._cluster_ids: dict[str, str] = {}
        self._groups: dict[str, GroupRecord] = {}
        self._deployments: dict[str, dict[str, Deployment]] = {}
        self._listeners: dict[str, Listener] = {}
        # Revisions some deployment wants now, so sessions never wait for them.
        self._live: dict[str, Rendered] = {}
        self._old: LruCache[str, Rendered] = LruCache(1024)
        self._dirty: set[tuple[str, str]] = set()
        self._deleted: set[tuple[str, str]] = set()
        self._seen: dict[str, int] = {}
        self._flush_wake = asyncio.Event()
        # Liveness: when each disconnected cluster went down, and who is past the grace period.
        self._offline_grace = offline_grace
        self._down_since: dict[str, float] = {}
        self._offline: set[str] = set()
        # Rollouts: operator decisions, the last plan per bundle, and what to look at again.
        self._controls: dict[str, BundleControl] = {}
        self._rollouts: dict[str, RolloutPlan] = {}
        self._by_bundle: dict[str, set[str]] = {}
        self._dependents: dict[str, set[str]] = {}
        self._rollout_dirty: set[str] = set()
        # Gated bundles with everything released, with live per-partition counts: only a new
        # input (revision, pause, resume, membership), a partition becoming or ceasing to be
        # wholly Ready, a failure or a timer makes them worth gating again.
        self._settled: dict[str, Progress] = {}
        self._rollout_wake = asyncio.Event()
        self._wake_at: dict[str, float] = {}
        # Replicas (set by hub.app with a shared store): which remote replica holds each
        # cluster's stream, and clusters whose stream ended here since the last flush.
        self.peers: Peers | None = None
        self._remote: dict[str, str] = {}
        self._detached: set[str] = set()
        status.explain = self._explain

    # --- start and the write-behind loop ---------------------------------------------------------

    async def load(self) -> None:
        """Rebuild the in-memory fleet from the store, then re-derive every desired revision."""
        snap = await self._store.load()
        self._controls = {c.name: c for c in snap.controls}
        for rec in snap.bundles:
            try:
                bundle = await asyncio.to_thread(
                    load_bundle, BundleSource(rec.name, rec.files), labels=rec.labels
                )
            except InvalidInput as exc:
                log.error("stored bundle %s no longer loads, skipping it: %s", rec.name, exc)
                continue
            self._bundles[rec.name] = (rec, bundle)
            self.status.add_bundle(rec.name)
        for cluster in snap.clusters:
            self._clusters[cluster.id] = cluster
            self._cluster_ids[cluster.name] = cluster.id
            self._deployments[cluster.id] = {}
            self.status.put_cluster(cluster.id, ClusterInfo(cluster.name, cluster.labels))
            # Every cluster starts disconnected: it is Offline unless it is back within grace.
            self._down_since[cluster.id] = time.monotonic()
        for group in snap.groups:
            self._groups[group.name] = group
        if DEFAULT_GROUP not in self._groups:
            group = GroupRecord(DEFAULT_GROUP, LabelSelector())
            await self._store.put_group(group)
            self._groups[DEFAULT_GROUP] = group
        for group in self._groups.values():
            self.status.put_group(group.name, self._members(group.selector))
        self._refresh_memberships(self._clusters)
        reported = {(d.cluster_id, d.bundle): d for d in snap.deployments}
        plan = await self._plan(self._loaded(), self._clusters)
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
                self._live[rendered.revision] = rendered
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
            if not self._gated(name):
                dep.released = dep.desired
            self._deployments[cluster_id][name] = dep
            self._by_bundle.setdefault(name, set()).add(cluster_id)
            self._changed(dep)
        self._refresh_dependents()
        self._regate(*self._bundles)
        # Rows of pairs that no longer exist.
        self._deleted.update((b, c) for c, b in reported)
        await self._store.put_resource_sets({r.revision: r.encode() for r in self._live.values()})
        log.info(
            "loaded %d bundles, %d clusters, %d groups",
            len(self._bundles),
            len(self._clusters),
            len(self._groups),
        )

    async def run(self, *, interval: float = 0.25) -> None:
        """Write spoke-reported state behind, in one transaction per batch."""
        while True:
            await self._flush_wake.wait()
            await asyncio.sleep(interval)
            await self.flush()

    async def flush(self) -> None:
        self._flush_wake.clear()
        dirty, self._dirty = self._dirty, set()
        deleted, self._deleted = self._deleted, set()
        seen, self._seen = self._seen, {}
        detached, self._detached = self._detached, set()
        upserts = [
            self._deployments[c][b].record()
            for b, c in dirty
            if b in self._deployments.get(c, {}) and self._writes_rows(c, detached)
        ]
        if upserts or deleted:
            await self._store.save_deployments(upserts, sorted(deleted))
        if seen:
            await self._store.touch_clusters(seen)

    def _writes_rows(self, cluster_id: str, detached: set[str]) -> bool:
        """Whether this hub writes the cluster's deployment rows. A lone hub writes them all;
        a replica only those of spokes it serves (or served until this batch), so it never
        overwrites a fresher row from the replica that holds the stream."""
        return self.peers is None or cluster_id in self._listeners or cluster_id in detached

    def _changed(self, dep: Deployment, *, persist: bool = True) -> None:
        """Recompute a deployment's state; persist=False when only in-memory fields changed."""
        offline = dep.cluster_id in self._offline
        state = deployment_state(dep.facts(offline=offline))
        if state == READY and dep.ready_since is None:
            dep.ready_since = time.monotonic()
        elif state != READY:
            if dep.ready_since is not None:
                dep.left_ready_at = time.monotonic()
            dep.ready_since = None
        old = self.status.state_of(dep.bundle, dep.cluster_id)
        self.status.set_state(dep.bundle, dep.cluster_id, state)
        if persist:
            self._dirty.add((dep.bundle, dep.cluster_id))
            self._flush_wake.set()
        if old != state:
            # A state change can free this bundle's rollout or a dependent bundle's gate. A
            # settled bundle has nothing left to release: it is re-gated only when the change
            # completes (or reopens) a partition or is a failure, so status churn costs O(1).
            progress = self._settled.get(dep.bundle)
            if progress is not None and (
                progress.move(
                    dep.cluster_id,
                    was_ready=old == READY,
                    is_ready=state == READY,
                    now=time.monotonic(),
                )
                or ERR_APPLIED in (old, state)
            ):
                # Kept (reads stay exact) while the gate looks again for failures and timers.
                self._rollout_dirty.add(dep.bundle)
                self._rollout_wake.set()
            for name in (dep.bundle, *self._dependents.get(dep.bundle, ())):
                if name not in self._settled and self._gated(name):
                    self._rollout_dirty.add(name)
                    self._rollout_wake.set()
            self._watch_deadline(dep, state)

    def _watch_deadline(self, dep: Deployment, state: str) -> None:
        """Wake the gate when this deployment's progress deadline passes: time alone turns a
        slow cluster into a failure, and no report may ever come to say so."""
        since = dep.stalled_since(state)
        if since is None or not self._gated(dep.bundle):
            return
        strategy = self._options(dep.bundle).rollout_strategy
        if strategy is None or not strategy.progress_deadline_seconds:
            return
        at = since + strategy.progress_deadline_seconds
        if at < self._wake_at.get(dep.bundle, float("inf")):
            self._wake_at[dep.bundle] = at
            self._rollout_wake.set()

    def _regate(self, *names: str, ungated_too: bool = False) -> None:
        """Look at these bundles' rollouts again (their inputs changed), settled or not.

        ungated_too: a bundle that just stopped being gated (unpaused, resumed) still has to
        have what it held back released, once.
        """
        for name in names:
            self._settled.pop(name, None)
            if ungated_too or self._gated(name):
                self._rollout_dirty.add(name)
        self._rollout_wake.set()

    # --- targeting ----------------------------------------------------------------------------

    def _loaded(self) -> dict[str, Bundle]:
        return {name: bundle for name, (_, bundle) in self._bundles.items()}

    def _selectors(self) -> dict[str, LabelSelector]:
        return {g.name: g.selector for g in self._groups.values()}

    def _members(self, selector: LabelSelector) -> list[str]:
        return [c.id for c in self._clusters.values() if selector.matches(c.labels)]

    def _refresh_memberships(self, cluster_ids: Iterable[str]) -> None:
        for cluster_id in cluster_ids:
            labels = self._clusters[cluster_id].labels
            self.status.set_groups(
                cluster_id, {g.name for g in self._groups.values() if g.selector.matches(labels)}
            )

    async def _plan(
        self,
        bundles: Mapping[str, Bundle],
        clusters: Mapping[str, ClusterRecord],
        *,
        strict: bool = False,
    ) -> Plan:
        """What each (cluster, bundle) pair should hold; None where the bundle does not reach.

        A pair that cannot be rendered is Unrendered: a cluster lacking what a template reads
        is that cluster's problem, never the apply's. Any other render failure is too, unless
        strict, when it is the caller's error: nothing of the change is stored.
        """
        groups = self._selectors()
        plan: Plan = {}
        refused = Problems()
        failed: dict[str, str] = {}  # render key -> error, so a failing input renders once
        for name, bundle in bundles.items():
            for cluster_id, cluster in clusters.items():
                target = target_for(bundle, cluster, groups)
                if target is None:
                    plan[(cluster_id, name)] = None
                    continue
                if target.error:
                    plan[(cluster_id, name)] = Unrendered(target.error)
                    continue
                rendered = self._renderer.cached(target)
                error = failed.get(target.render_key)
                if rendered is None and error is None:
                    try:
                        rendered = await self._renderer.render(bundle, target)
                    except InvalidInput as exc:
                        if strict:
                            # One failure per bundle is reported, every bundle's: rendering
                            # on for its other clusters would only repeat it, maybe 10,000 times.
                            where = f"bundle {name} for cluster {cluster.name}"
                            refused.found.extend(f"{where}: {p}" for p in exc.problems)
                            break
                        log.error("bundle %s for cluster %s: %s", name, cluster.name, exc)
                        error = failed[target.render_key] = str(exc)
                plan[(cluster_id, name)] = rendered or Unrendered(error or "render failed")
        refused.raise_any()
        return plan

    async def _probe(self, bundle: Bundle) -> Rendered:
        """Render a bundle that reaches no cluster yet, to refuse a broken one before storing:
        as a cluster with no labels would get it, else (targets that such a cluster misses,
        templates that read its labels) with the bundle's own options."""
        target = target_for(bundle, PROBE_CLUSTER, {DEFAULT_GROUP: LabelSelector()})
        if target is None or target.error:
            target = base_target(bundle)
        return await self._renderer.render(bundle, target)

    def _unstored(self, plan: Plan) -> dict[str, bytes]:
        """Rendered revisions of plan that the store does not hold yet."""
        return {
            r.revision: r.encode()
            for r in plan.values()
            if isinstance(r, Rendered)
            and r.revision not in self._live
            and self._old.get(r.revision) is None
        }

    async def _commit_stored(self, plan: Plan, *, prune: bool = True) -> None:
        """Store the plan's new revisions, then commit it: a crash never leaves a deployment
        pointing at a revision the store cannot give back."""
        fresh = self._unstored(plan)
        if fresh:
            await self._store.put_resource_sets(fresh)
        self._commit(plan, prune=prune)

    def _commit(self, plan: Plan, *, prune: bool = True) -> None:
        """Make the plan the desired state, and tell the sessions whose clusters it touched.

        prune=False skips the O(deployments) sweep of unreferenced revisions: a plan for one
        new cluster (a registration) cannot leave any revision unreferenced.
        """
        touched: dict[str, list[str]] = {}
        for (cluster_id, name), rendered in plan.items():
            deps = self._deployments.setdefault(cluster_id, {})
            dep = deps.get(name)
            if rendered is None:
                if dep is not None:
                    del deps[name]
                    self._by_bundle.get(name, set()).discard(cluster_id)
                    self.status.set_state(name, cluster_id, None)
                    self._deleted.add((name, cluster_id))
                    touched.setdefault(cluster_id, []).append(name)
                continue
            if isinstance(rendered, Unrendered):
                # Shown as an error; the cluster keeps what it holds, nothing is sent.
                if dep is None:
                    dep = deps[name] = Deployment(name, cluster_id, "")
                    self._by_bundle.setdefault(name, set()).add(cluster_id)
                    self._deleted.discard((name, cluster_id))
                elif dep.render_error == rendered.error:
                    continue
                dep.render_error = rendered.error
                if self._gated(name):
                    self._regate(name)
                self._changed(dep)
                continue
            self._live[rendered.revision] = rendered
            if dep is None:
                dep = deps[name] = Deployment(name, cluster_id, rendered.revision)
                self._by_bundle.setdefault(name, set()).add(cluster_id)
                self._deleted.discard((name, cluster_id))
            elif dep.desired == rendered.revision and not dep.render_error:
                continue
            dep.render_error = ""
            dep.desired = rendered.revision
            if self._gated(name):
                self._regate(name)
            else:
                dep.released, dep.released_at, dep.held = dep.desired, time.monotonic(), ""
            self._changed(dep)
            touched.setdefault(cluster_id, []).append(name)
        if prune:
            self._prune_live()
        self._flush_wake.set()
        for cluster_id, names in touched.items():
            listener = self._listeners.get(cluster_id)
            if listener is not None:
                listener.notify(names)

    def _prune_live(self) -> None:
        wanted = {
            r
            for deps in self._deployments.values()
            for d in deps.values()
            for r in (d.desired, d.released)
        }
        for revision in [r for r in self._live if r not in wanted]:
            self._old.put(revision, self._live.pop(revision))

    # --- rollouts, pause and dependsOn -------------------------------------------------------

    def _options(self, name: str) -> BundleOptions:
        return self._bundles[name][1].options

    def _paused(self, name: str) -> bool:
        control = self._controls.get(name)
        if control is not None and control.paused is not None:
            return control.paused
        return self._options(name).paused

    def _gated(self, name: str) -> bool:
        """Whether releases of this bundle go through the rollout gate (else: at once)."""
        if name not in self._bundles:
            return False
        options = self._options(name)
        control = self._controls.get(name)
        return bool(
            options.rollout_strategy is not None
            or options.depends_on
            or self._paused(name)
            or (control is not None and control.halted)
        )

    def _bundle_labels(self, name: str) -> dict[str, str]:
        rec, bundle = self._bundles[name]
        return {**bundle.options.labels, **rec.labels}

    def _dependencies(self, name: str) -> list[tuple[str, tuple[str, ...]]]:
        """(bundle, accepted states) for each bundle this one depends on."""
        out = []
        for ref in self._options(name).depends_on:
            accepted = ref.accepted_states or (READY,)
            if ref.name:
                out.append((ref.name, accepted))
            elif ref.selector is not None:
                out.extend(
                    (other, accepted)
                    for other in self._bundles
                    if other != name and ref.selector.matches(self._bundle_labels(other))
                )
        return out

    def _refresh_dependents(self) -> None:
        dependents: dict[str, set[str]] = {}
        for name in self._bundles:
            for dep_name, _ in self._dependencies(name):
                dependents.setdefault(dep_name, set()).add(name)
        self._dependents = dependents

    def _blocked(self, dependencies: list[tuple[str, tuple[str, ...]]], cluster_id: str) -> str:
        waiting = []
        for dep_name, accepted in dependencies:
            state = self.status.state_of(dep_name, cluster_id)
            if state not in accepted:
                waiting.append(f"{dep_name} ({state or 'not deployed here'})")
        return f"waiting for {', '.join(waiting)}" if waiting else ""

    async def run_rollouts(self, *, window: float = 0.05) -> None:
        """Re-gate bundles whose rollout inputs changed, coalesced over a short window."""
        while True:
            timeout = None
            if self._wake_at:
                timeout = max(0.0, min(self._wake_at.values()) - time.monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._rollout_wake.wait(), timeout)
            await asyncio.sleep(window)
            self._rollout_wake.clear()
            now = time.monotonic()
            due = {b for b, t in self._wake_at.items() if t <= now}
            dirty, self._rollout_dirty = self._rollout_dirty | due, set()
            for name in sorted(dirty):
                self._wake_at.pop(name, None)
                if name in self._bundles:
                    # With replicas, only the holder of the bundle's lease releases: two
                    # replicas deciding at once could together exceed the budget.
                    decide = self.peers is None or await self.peers.lead(name)
                    await self._evaluate(name, decide=decide)

    async def _evaluate(self, name: str, *, decide: bool = True) -> None:
        """Run the gate for one bundle and release what it allows.

        decide=False (a replica without the lease) only refreshes what status shows; the
        lease holder's releases arrive through `remote_released`.
        """
        # Changes made while this runs must re-gate it, not move counts about to be replaced.
        self._settled.pop(name, None)
        now = time.monotonic()
        strategy = self._options(name).rollout_strategy
        control = self._controls.get(name, BundleControl(name))
        dependencies = self._dependencies(name)
        candidates = []
        deps: dict[str, Deployment] = {}
        for cluster_id in self._by_bundle.get(name, ()):
            dep = self._deployments[cluster_id][name]
            deps[cluster_id] = dep
            cluster = self._clusters[cluster_id]
            offline = cluster_id in self._offline
            state = self.status.state_of(name, cluster_id)
            released = dep.released == dep.desired
            failed = bool(dep.render_error) or (
                released and dep.acked == dep.desired and bool(dep.error)
            )
            candidates.append(
                Candidate(
                    cluster_id=cluster_id,
                    name=cluster.name,
                    labels=cluster.labels,
                    groups=frozenset(self.status.groups_of(cluster_id)),
                    released=released,
                    up_to_date=released and state == READY,
                    available=not offline
                    and dep.acked == dep.released
                    and dep.status_revision == dep.released
                    and dep.ready
                    and not dep.error,
                    failed=failed,
                    failure=dep.render_error or (f"ErrApplied: {dep.error}" if failed else ""),
                    stalled_since=dep.stalled_since(state),
                    blocked=self._blocked(dependencies, cluster_id),
                    ready_since=dep.ready_since,
                )
            )
        plan = plan_rollout(
            strategy, candidates, now=now, paused=self._paused(name), halted=control.halted
        )
        # An ungated bundle is only here to release what a gate held back: it shows no rollout.
        if self._gated(name):
            self._rollouts[name] = plan
        else:
            self._rollouts.pop(name, None)
        release = plan.release if decide else frozenset()
        if plan.halt and decide:
            reason = plan.halt_reason
            control = BundleControl(name, control.paused, reason)
            self._controls[name] = control
            await self._store.put_bundle_control(control)
            log.warning("rollout of bundle %s halted: %s", name, reason)
        if plan.wake_at is not None:
            self._wake_at[name] = plan.wake_at
        touched = []
        by_id = {c.cluster_id: c for c in candidates}
        for cluster_id, dep in deps.items():
            if cluster_id in release:
                dep.released, dep.released_at = dep.desired, now
                touched.append(cluster_id)
            held = ""
            if dep.released != dep.desired:
                held = by_id[cluster_id].blocked or plan.reason or "held by the rollout"
            by_dependency = bool(by_id[cluster_id].blocked) and dep.released != dep.desired
            if (held, by_dependency) != (dep.held, dep.held_by_dependency) or (
                cluster_id in release
            ):
                dep.held, dep.held_by_dependency = held, by_dependency
                self._changed(dep)
        for cluster_id in touched:
            listener = self._listeners.get(cluster_id)
            if listener is not None:
                listener.notify([name])
        if self._gated(name) and all(d.released == d.desired for d in deps.values()):
            self._settled[name] = Progress.of(plan)
        if touched and self.peers is not None:
            self.peers.publish("released", name, ids=[f"{c}/{deps[c].released}" for c in touched])
        self.status.touch_bundle(name)

    def rollout(self, name: str) -> RolloutPlan | None:
        plan = self._rollouts.get(name)
        progress = self._settled.get(name)
        if plan is None or progress is None:
            return plan
        strategy = self._options(name).rollout_strategy
        bake = strategy.bake_seconds if strategy else 0
        return progress.current(plan, now=time.monotonic(), bake_seconds=bake)

    def paused(self, name: str) -> bool:
        return name in self._bundles and self._paused(name)

    async def set_paused(self, name: str, paused: bool) -> None:
        if name not in self._bundles:
            raise NotFound(f"bundle {name!r} not found")
        control = self._controls.get(name, BundleControl(name))
        control = BundleControl(name, paused, control.halted)
        await self._store.put_bundle_control(control)
        self._controls[name] = control
        self._regate(name, ungated_too=True)

    async def resume_rollout(self, name: str) -> None:
        if name not in self._bundles:
            raise NotFound(f"bundle {name!r} not found")
        control = self._controls.get(name, BundleControl(name))
        control = BundleControl(name, control.paused, "")
        await self._store.put_bundle_control(control)
        self._controls[name] = control
        self._regate(name, ungated_too=True)

    def _explain(self, name: str, cluster_id: str) -> str:
        """One line on what is wrong with a deployment, for the bundle summary."""
        dep = self._deployments.get(cluster_id, {}).get(name)
        if dep is None:
            return ""
        if dep.render_error:
            return dep.render_error
        if cluster_id in self._offline:
            return "cluster offline; last report is stale"
        if dep.held:
            return dep.held
        if dep.error:
            return dep.error
        for r in dep.resources:
            if r.missing:
                return f"{describe_key(r.key)} missing"
            if r.modified:
                return f"{describe_key(r.key)} modified {r.message}"
        for r in dep.resources:
            if not r.ready:
                return f"{describe_key(r.key)} not ready: {r.message}"
        return ""

    # --- liveness -----------------------------------------------------------------------------

    async def run_liveness(self, *, interval: float = 1.0) -> None:
        """One sweeper for every cluster: mark clusters Offline once down past the grace."""
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for cluster_id, since in list(self._down_since.items()):
                if cluster_id not in self._offline and now - since >= self._offline_grace:
                    self._set_offline(cluster_id, True)

    def _set_offline(self, cluster_id: str, offline: bool) -> None:
        if (cluster_id in self._offline) == offline or cluster_id not in self._clusters:
            return
        if offline:
            self._offline.add(cluster_id)
            log.warning("cluster %s is offline", self._clusters[cluster_id].name)
        else:
            self._offline.discard(cluster_id)
        self.status.set_offline(cluster_id, offline)
        for dep in self._deployments.get(cluster_id, {}).values():
            self._changed(dep)

    def offline(self, cluster_id: str) -> bool:
        return cluster_id in self._offline

    # --- bundles ------------------------------------------------------------------------------

    async def apply_bundles(
        self, sources: Sequence[tuple[BundleSource, Mapping[str, str]]]
    ) -> list[AppliedBundle]:
        """Create or update bundles, all or none."""
        names = [s.name for s, _ in sources]
        if len(set(names)) != len(names):
            raise InvalidInput("the same bundle name is given twice in one apply")
        for source, _ in sources:
            size = sum(len(c) for c in source.files.values())
            if size > self._limits.max_bundle_bytes:
                raise InvalidInput(
                    f"bundle {source.name} is {size / 2**20:.1f} MiB; the hub's limit is "
                    f"{self._limits.max_bundle_bytes / 2**20:.1f} MiB "
                    "(argosy hub --max-bundle-bytes)"
                )
        loaded = await asyncio.to_thread(_load_all, sources)
        async with self._lock:
            now = _now()
            records: dict[str, tuple[BundleRecord, Bundle]] = {}
            results = []
            plan = await self._plan(
                {b.name: b for b in loaded},
                self._clusters,
                strict=True,
            )
            # A bundle no cluster receives today is rendered all the same: a broken chart must
            # be refused now, not stored to fail on the first cluster that matches later.
            problems = Problems()
            probes: dict[str, int] = {}
            reached = {n for (_, n), r in plan.items() if isinstance(r, Rendered)}
            for bundle in loaded:
                if bundle.name not in reached:
                    with problems.check():
                        probes[bundle.name] = len((await self._probe(bundle)).resources)
            problems.raise_any()
            warnings = overlap_warnings(self._overlapping(plan))
            for bundle in loaded:
                sizes = [
                    len(r.resources)
                    for (_, n), r in plan.items()
                    if n == bundle.name and isinstance(r, Rendered)
                ]
                if not sizes:
                    sizes = [probes[bundle.name]]
                if max(sizes) > self._limits.max_resources:
                    raise InvalidInput(
                        f"bundle {bundle.name} renders {max(sizes)} resources; the hub's limit is "
                        f"{self._limits.max_resources} (argosy hub --max-resources)"
                    )
                old = self._bundles.get(bundle.name)
                changed = old is None or old[0].revision != bundle.revision
                record = BundleRecord(
                    name=bundle.name,
                    labels=dict(bundle.labels),
                    files=dict(bundle.files),
                    revision=bundle.revision,
                    resource_count=max(sizes),
                    created=old[0].created if old else now,
                    updated=now if changed or old is None else old[0].updated,
                )
                records[bundle.name] = (record, bundle)
                results.append(
                    AppliedBundle(
                        bundle.name,
                        bundle.revision,
                        changed,
                        max(sizes),
                        tuple(warnings.get(bundle.name, ())),
                    )
                )
            await self._store.put_bundles([r for r, _ in records.values()], self._unstored(plan))
            for name, entry in records.items():
                self._bundles[name] = entry
                self.status.add_bundle(name)
            self._refresh_dependents()
            self._commit(plan)
            # A bundle that stopped being gated (fleet.yaml lost `paused`, say) releases what
            # it held back even when its revision did not change.
            self._regate(*records, ungated_too=True)
            self._retry_failed(records)
            return results

    def _overlapping(self, plan: Plan) -> Iterator[tuple[str, str, Rendered, str, Rendered]]:
        """(cluster, applied bundle, its render, other bundle, its render) on every cluster the
        plan reaches: what overlap_warnings compares. O(bundles on those clusters), at apply."""
        for cluster_id, mine in by_cluster(plan).items():
            cluster = self._clusters.get(cluster_id)
            others = {
                other: rendered
                for other, dep in self._deployments.get(cluster_id, {}).items()
                if other not in mine and (rendered := self.live_rendered(dep.desired)) is not None
            }
            others.update(mine)
            for name, rendered in mine.items():
                for other, theirs in others.items():
                    if other != name:
                        yield cluster.name if cluster else cluster_id, name, rendered, other, theirs

    def _retry_failed(self, names: Iterable[str]) -> None:
        """Have every spoke whose apply of these bundles failed apply it again now.

        Applying unchanged content is how a user says "try again" (the CRD a custom resource
        needed is there now, say). Only deployments with nothing new on its way: a new
        revision is an apply of its own. O(clusters of the bundle), on an admin call.
        """
        for name in names:
            remote = []
            for cluster_id in self._by_bundle.get(name, ()):
                dep = self._deployments[cluster_id][name]
                if not dep.error or dep.render_error or dep.acked != dep.released:
                    continue
                listener = self._listeners.get(cluster_id)
                if listener is not None:
                    listener.retry([name])
                elif cluster_id in self._remote:
                    remote.append(cluster_id)
            if remote and self.peers is not None:
                self.peers.publish("retry", name, ids=remote)

    def remote_retry(self, bundle: str, cluster_ids: Iterable[str]) -> None:
        """Another replica was asked to retry these clusters' failed deployment of bundle."""
        for cluster_id in cluster_ids:
            listener = self._listeners.get(cluster_id)
            if listener is not None:
                listener.retry([bundle])

    async def delete_bundle(self, name: str) -> None:
        async with self._lock:
            if name not in self._bundles:
                raise NotFound(f"bundle {name!r} not found")
            await self._store.delete_bundle(name)
            self._drop_bundle(name)

    def _drop_bundle(self, name: str) -> None:
        del self._bundles[name]
        self._commit(dict.fromkeys(((c, name) for c in self._clusters), None))
        self.status.remove_bundle(name)
        self._controls.pop(name, None)
        self._rollouts.pop(name, None)
        self._by_bundle.pop(name, None)
        self._wake_at.pop(name, None)
        self._settled.pop(name, None)
        self._refresh_dependents()

    def bundles(self) -> list[BundleRecord]:
        return [rec for rec, _ in sorted(self._bundles.values(), key=lambda e: e[0].name)]

    def bundle(self, name: str) -> BundleRecord:
        entry = self._bundles.get(name)
        if entry is None:
            raise NotFound(f"bundle {name!r} not found")
        return entry[0]

    # --- clusters -----------------------------------------------------------------------------

    async def register(
        self, *, token: str, name: str, labels: Mapping[str, str], csr_pem: bytes = b""
    ) -> tuple[ClusterRecord, str, bytes]:
        """Exchange a registration token for a cluster and its credential.

        With an issuer (a TLS hub) the credential is a client certificate signed from the
        cluster's CSR, returned as (record, "", certificate); the hub keeps its serial. Without
        one (--insecure) it is a bearer secret, returned as (record, secret, b"").
        """
        check_name(name, what="cluster name")
        check_labels(dict(labels), what=f"cluster {name} labels")
        if not token:
            raise Unauthenticated("a registration token is required")
        if self._issuer is not None and not csr_pem:
            raise InvalidInput("registration needs a certificate signing request (csr_pem)")
        known = self.cluster_by_name(name)
        if known is not None and known.revoked:
            raise PermissionDenied(
                f"cluster {name} is revoked; to let it back, `argosy cluster delete {name}`, "
                "then register it with a token created after that (argosy token create)"
            )
        # Checked before the token is used, so a refused attempt costs the token no use.
        revoked = None if known is not None else await self._store.get_revoked_name(name)
        if revoked is not None and auth.token_id(token) in revoked.token_ids:
            raise PermissionDenied(
                f"cluster {name} was revoked; it may register again only with a registration "
                "token created after its revocation (argosy token create)"
            )
        if await self._store.use_token(auth.hash_secret(token), now=_now()) is None:
            raise Unauthenticated("the registration token is unknown, expired, used up or revoked")
        async with self._lock:
            old_id = self._cluster_ids.get(name)
            old = self._clusters.get(old_id) if old_id else None
            cluster_id = old.id if old else auth.new_id("c-")
            credential, certificate = "", b""
            if self._issuer is not None:
                certificate, serial = self._issuer(csr_pem, cluster_id)
                credential_hash = f"serial:{serial}"
            else:
                credential = auth.new_credential(cluster_id)
                credential_hash = auth.hash_secret(credential)
            record = ClusterRecord(
                id=cluster_id,
                name=name,
                labels=dict(labels),
                credential_hash=credential_hash,
                created=old.created if old else _now(),
                last_seen=old.last_seen if old else 0,
            )
            await self._store.put_cluster(record)
            if revoked is not None:
                # Registered anew with a new token: a later revocation starts a new record.
                await self._store.forget_revoked_name(name)
            self._clusters[cluster_id] = record
            self._cluster_ids[name] = cluster_id
            info = ClusterInfo(name, record.labels)
            if old_id in self._listeners:
                # A re-registration replaces the old credential: cut the stream that used it.
                self._listeners.pop(cluster_id).close("cluster re-registered")
            self.status.put_cluster(cluster_id, info)
            self._refresh_memberships([cluster_id])
            await self._commit_stored(
                await self._plan(self._loaded(), {cluster_id: record}), prune=old is not None
            )
            log.info("registered cluster %s (%s) labels=%s", name, cluster_id, dict(labels))
            return record, credential, certificate

    async def renew(self, cluster: ClusterRecord, csr_pem: bytes) -> bytes:
        """A new certificate for a cluster that proved it holds the current one."""
        if self._issuer is None:
            raise InvalidInput("this hub runs without TLS: there is no certificate to renew")
        async with self._lock:
            current = self._clusters.get(cluster.id)
            if current is None or current.revoked:
                raise Unauthenticated("unknown or revoked cluster")
            certificate, serial = self._issuer(csr_pem, cluster.id)
            record = replace(current, credential_hash=f"serial:{serial}")
            await self._store.put_cluster(record)
            self._clusters[cluster.id] = record
            log.info("renewed the certificate of cluster %s", cluster.name)
            return certificate

    async def revoke_cluster(self, name: str) -> None:
        """Refuse the cluster's certificate from now on and cut its open stream at once.

        The name stays refused to every registration token usable now, even once the cluster
        is deleted: the revoked spoke still holds the token it registered with, and would
        otherwise come straight back. Written before the cluster is marked revoked, so no
        crash leaves a revoked cluster without it.
        """
        async with self._lock:
            cluster = self.cluster_by_name(name)
            if cluster is None:
                raise NotFound(f"cluster {name!r} not found")
            now = _now()
            usable = tuple(
                t.id
                for t in await self._store.list_tokens()
                if not t.revoked and (not t.expires or t.expires > now)
            )
            await self._store.put_revoked_name(RevokedName(name, now, usable))
            record = replace(cluster, credential_hash="", revoked=True)
            await self._store.put_cluster(record)
            self._clusters[cluster.id] = record
            listener = self._listeners.pop(cluster.id, None)
            if listener is not None:
                listener.close("cluster revoked")
                self.status.set_connected(cluster.id, False)
                self._down_since[cluster.id] = time.monotonic()
            log.warning("revoked cluster %s", name)

    async def delete_cluster(self, name: str) -> None:
        async with self._lock:
            cluster_id = self._cluster_ids.get(name)
            if cluster_id is None:
                raise NotFound(f"cluster {name!r} not found")
            if not self._clusters[cluster_id].revoked:
                # Only a revocation interrupted before it marked the cluster leaves one here.
                await self._store.forget_revoked_name(name)
            await self._store.delete_cluster(cluster_id)
            self._drop_cluster(cluster_id)

    def _drop_cluster(self, cluster_id: str) -> None:
        listener = self._listeners.pop(cluster_id, None)
        if listener is not None:
            listener.close("cluster deleted")
        for bundle in self._deployments.pop(cluster_id, {}):
            self._dirty.discard((bundle, cluster_id))
            self._by_bundle.get(bundle, set()).discard(cluster_id)
            self._regate(bundle)
        self._down_since.pop(cluster_id, None)
        self._offline.discard(cluster_id)
        self._remote.pop(cluster_id, None)
        del self._cluster_ids[self._clusters.pop(cluster_id).name]
        self.status.remove_cluster(cluster_id)
        self._prune_live()

    def clusters(self) -> list[ClusterRecord]:
        return sorted(self._clusters.values(), key=lambda c: c.name)

    def connected(self, cluster_id: str) -> bool:
        """Whether the cluster's stream is up, here or on another replica."""
        return cluster_id in self._listeners or cluster_id in self._remote

    def authenticate(self, credential: str) -> ClusterRecord:
        """The cluster a bearer credential belongs to (hubs run with --insecure)."""
        cluster_id = auth.credential_cluster_id(credential)
        cluster = self._clusters.get(cluster_id) if cluster_id else None
        if (
            cluster is None
            or cluster.revoked
            or not auth.secret_matches(credential, cluster.credential_hash)
        ):
            raise Unauthenticated("unknown or revoked cluster credential")
        return cluster

    def authenticate_certificate(self, cluster_id: str, serial: str) -> ClusterRecord:
        """The cluster a verified client certificate names, if it is still its current one."""
        cluster = self._clusters.get(cluster_id)
        if cluster is None or cluster.revoked or cluster.credential_hash != f"serial:{serial}":
            raise Unauthenticated("unknown, replaced or revoked cluster certificate")
        return cluster

    # --- groups -------------------------------------------------------------------------------

    async def put_group(self, name: str, selector: LabelSelector) -> GroupRecord:
        check_name(name, what="group name")
        async with self._lock:
            group = GroupRecord(name, selector)
            await self._store.put_group(group)
            self._groups[name] = group
            self.status.put_group(name, self._members(selector))
            await self._commit_stored(await self._plan(self._loaded(), self._clusters))
            return group

    async def delete_group(self, name: str) -> None:
        if name == DEFAULT_GROUP:
            raise PermissionDenied(f"the {DEFAULT_GROUP!r} group is built in and cannot be deleted")
        async with self._lock:
            if name not in self._groups:
                raise NotFound(f"group {name!r} not found")
            await self._store.delete_group(name)
            del self._groups[name]
            self.status.remove_group(name)
            await self._commit_stored(await self._plan(self._loaded(), self._clusters))

    def groups(self) -> list[GroupRecord]:
        return sorted(self._groups.values(), key=lambda g: g.name)

    # --- tokens -------------------------------------------------------------------------------

    async def create_token(
        self, *, ttl_seconds: int = 0, max_uses: int = 0
    ) -> tuple[TokenRecord, str]:
        token_id = auth.new_id("t-")
        secret = auth.new_token(token_id)
        now = _now()
        record = TokenRecord(
            id=token_id,
            secret_hash=auth.hash_secret(secret),
            created=now,
            expires=now + ttl_seconds if ttl_seconds else 0,
            max_uses=max_uses,
        )
        await self._store.put_token(record)
        return record, secret

    async def tokens(self) -> list[TokenRecord]:
        return await self._store.list_tokens()

    async def revoke_token(self, token_id: str) -> None:
        for token in await self._store.list_tokens():
            if token.id == token_id:
                await self._store.put_token(replace(token, revoked=True))
                return
        raise NotFound(f"token {token_id!r} not found")

    # --- spokes -------------------------------------------------------------------------------

    def attach(self, cluster_id: str, listener: Listener) -> None:
        """Make listener the cluster's one live session; a second stream replaces the first."""
        old = self._listeners.get(cluster_id)
        if old is not None:
            old.close("replaced by a newer stream from the same cluster")
        self._listeners[cluster_id] = listener
        self.status.set_connected(cluster_id, True)
        self._down_since.pop(cluster_id, None)
        self._set_offline(cluster_id, False)
        self._remote.pop(cluster_id, None)
        if self.peers is not None:
            self.peers.publish("attach", ids=[cluster_id])

    def detach(self, cluster_id: str, listener: Listener) -> None:
        if self._listeners.get(cluster_id) is listener:
            del self._listeners[cluster_id]
            self._detached.add(cluster_id)
            if self.peers is not None:
                self.peers.publish("detach", ids=[cluster_id])
            if cluster_id in self._clusters:
                self._down_since[cluster_id] = time.monotonic()
                self.status.set_connected(cluster_id, False)
                for dep in self._deployments.get(cluster_id, {}).values():
                    if dep.sent != dep.acked:
                        dep.sent = dep.acked
                        self._changed(dep)

    def desired(self, cluster_id: str) -> Mapping[str, Deployment]:
        return self._deployments.get(cluster_id, {})

    def live_rendered(self, revision: str) -> Rendered | None:
        return self._live.get(revision) or self._old.get(revision)

    async def rendered(self, revision: str) -> Rendered | None:
        """A revision's resources, from memory or, for an old one, the store."""
        hit = self.live_rendered(revision)
        if hit is not None or not revision:
            return hit
        data = await self._store.get_resource_set(revision)
        if data is None:
            return None
        rendered = Rendered.decode(data)
        self._old.put(revision, rendered)
        return rendered

    def on_hello(self, cluster_id: str, applied: Mapping[str, str]) -> None:
        for name, dep in self._deployments.get(cluster_id, {}).items():
            held = applied.get(name, "")
            if dep.acked != held or dep.sent != held:
                dep.acked = dep.sent = held
                self._changed(dep)
        self._seen[cluster_id] = _now()

    def on_sent(self, cluster_id: str, bundle: str, revision: str) -> None:
        dep = self._deployments.get(cluster_id, {}).get(bundle)
        if dep is not None and dep.sent != revision:
            dep.sent = revision
            self._changed(dep, persist=False)  # `sent` lives only as long as the stream

    def _reject(self, cluster_id: str, what: str, bundle: str) -> None:
        """A spoke named a deployment that is not its own: refuse it, say so, carry on."""
        self.rejected += 1
        cluster = self._clusters.get(cluster_id)
        log.warning(
            "rejected %s from cluster %s for bundle %r: not a deployment of that cluster",
            what,
            cluster.name if cluster else cluster_id,
            bundle,
        )

    def on_ack(self, cluster_id: str, *, bundle: str, revision: str, error: str) -> None:
        dep = self._deployments.get(cluster_id, {}).get(bundle)
        if dep is None:
            # A delete's ack (empty revision) names what was just removed: that is expected.
            if revision:
                self._reject(cluster_id, "an ack", bundle)
            return
        if (dep.acked, dep.error) != (revision, error):
            dep.acked, dep.error = revision, error
            self._changed(dep)

    def on_status(self, cluster_id: str, updates: Iterable[StatusUpdate]) -> None:
        deps = self._deployments.get(cluster_id, {})
        for update in updates:
            dep = deps.get(update.bundle)
            if dep is None:
                self._reject(cluster_id, "a status report", update.bundle)
                continue
            dep.status_revision, dep.ready, dep.resources = (
                update.revision,
                update.ready,
                update.resources,
            )
            if update.revision == dep.acked:
                dep.error = update.apply_error
            self._changed(dep)

    def on_heartbeat(self, cluster_id: str) -> None:
        self._seen[cluster_id] = _now()

    def deployment(self, cluster_id: str, bundle: str) -> Deployment | None:
        return self._deployments.get(cluster_id, {}).get(bundle)

    def cluster(self, cluster_id: str) -> ClusterRecord | None:
        return self._clusters.get(cluster_id)

    def cluster_by_name(self, name: str) -> ClusterRecord | None:
        cluster_id = self._cluster_ids.get(name)
        return self._clusters.get(cluster_id) if cluster_id else None

    # --- other replicas (hub/replication.py calls these) ----------------------------------------
    #
    # Each replica holds the whole fleet in memory. What another replica committed is re-read
    # from the store and applied here as if it had happened here, without writing it back:
    # the replica that made the change has stored it (revisions included) before saying so.

    async def reload_bundle(self, name: str) -> None:
        """Another replica applied or deleted a bundle."""
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
        async with self._lock:
            if rec is None or bundle is None:
                if name in self._bundles:
                    self._drop_bundle(name)
                return
            old = self._bundles.get(name)
            if old is not None and old[0] == rec:
                return
            plan = await self._plan({name: bundle}, self._clusters)
            self._bundles[name] = (rec, bundle)
            self.status.add_bundle(name)
            self._refresh_dependents()
            self._commit(plan)
            self._regate(name, ungated_too=True)

    async def reload_cluster(self, cluster_id: str) -> None:
        """Another replica registered, renewed, revoked or deleted a cluster."""
        rec = await self._store.load_cluster(cluster_id)
        async with self._lock:
            old = self._clusters.get(cluster_id)
            if rec is None:
                if old is not None:
                    self._drop_cluster(cluster_id)
                return
            if old == rec:
                return
            if old is not None and old.name != rec.name:
                self._cluster_ids.pop(old.name, None)
            self._clusters[cluster_id] = rec
            self._cluster_ids[rec.name] = cluster_id
            if old is not None and (old.credential_hash != rec.credential_hash or rec.revoked):
                # The credential this replica's stream used is no longer the cluster's.
                listener = self._listeners.pop(cluster_id, None)
                if listener is not None:
                    listener.close("cluster re-registered or revoked on another replica")
                    self._down_since[cluster_id] = time.monotonic()
            connected = self.connected(cluster_id)
            self.status.put_cluster(
                cluster_id,
                ClusterInfo(
                    rec.name,
                    rec.labels,
                    connected=connected,
                    ever_connected=connected,
                    offline=cluster_id in self._offline,
                ),
            )
            self._refresh_memberships([cluster_id])
            self._commit(await self._plan(self._loaded(), {cluster_id: rec}), prune=old is not None)

    async def reload_group(self, name: str) -> None:
        """Another replica created, changed or deleted a group."""
        rec = await self._store.load_group(name)
        async with self._lock:
            if rec is None:
                if name not in self._groups:
                    return
                del self._groups[name]
                self.status.remove_group(name)
            else:
                if self._groups.get(name) == rec:
                    return
                self._groups[name] = rec
                self.status.put_group(name, self._members(rec.selector))
            self._commit(await self._plan(self._loaded(), self._clusters))

    async def reload_control(self, name: str) -> None:
        """Another replica paused, resumed or halted a bundle's rollout."""
        control = await self._store.load_control(name)
        if name not in self._bundles:
            return
        if control is None:
            self._controls.pop(name, None)
        else:
            self._controls[name] = control
        self._regate(name, ungated_too=True)

    async def import_deployments(self, keys: Sequence[tuple[str, str]]) -> None:
        """Another replica wrote what its spokes reported: show it here too."""
        self._import_rows(await self._store.load_deployments(keys))

    def _import_rows(self, rows: Iterable[DeploymentRecord]) -> None:
        for row in rows:
            if row.cluster_id in self._listeners:
                continue  # this replica holds the stream: its own view is the fresher one
            dep = self._deployments.get(row.cluster_id, {}).get(row.bundle)
            if dep is None:
                continue
            # Spoke-reported fields only: desired is derived here, released is decided by
            # the lease holder and arrives through remote_released.
            dep.acked, dep.sent, dep.error = row.acked, row.acked, row.error
            dep.status_revision, dep.ready, dep.resources = (
                row.status_revision,
                row.ready,
                row.resources,
            )
            self._changed(dep, persist=False)

    def remote_released(self, bundle: str, released: Iterable[tuple[str, str]]) -> None:
        """The replica holding the bundle's lease released these (cluster, revision) pairs."""
        now = time.monotonic()
        for cluster_id, revision in released:
            dep = self._deployments.get(cluster_id, {}).get(bundle)
            if dep is None or dep.desired != revision or dep.released == revision:
                continue  # a newer desired revision awaits the lease holder's next decision
            dep.released, dep.released_at = revision, now
            dep.held, dep.held_by_dependency = "", False
            self._changed(dep)
            listener = self._listeners.get(cluster_id)
            if listener is not None:
                listener.notify([bundle])
        self.status.touch_bundle(bundle)

    def remote_attached(self, origin: str, cluster_ids: Iterable[str], *, attached: bool) -> None:
        """A cluster's stream opened (or closed) on replica `origin`."""
        for cluster_id in cluster_ids:
            if cluster_id not in self._clusters or cluster_id in self._listeners:
                continue
            if attached:
                self._remote[cluster_id] = origin
                self.status.set_connected(cluster_id, True)
                self._down_since.pop(cluster_id, None)
                self._set_offline(cluster_id, False)
            elif self._remote.get(cluster_id) == origin:
                del self._remote[cluster_id]
                self.status.set_connected(cluster_id, False)
                self._down_since[cluster_id] = time.monotonic()

    def peer_gone(self, origin: str) -> None:
        """Replica `origin` stopped answering: its streams are down, its leases free."""
        self.remote_attached(
            origin, [c for c, o in self._remote.items() if o == origin], attached=False
        )
        self._regate(*self._bundles)

    async def refresh_cluster(self, cluster_id: str) -> bool:
        """Re-read a cluster a spoke claims to be, when this replica does not know it (yet):
        it may have registered on another replica a moment ago. False for a lone hub."""
        if self.peers is None or not cluster_id:
            return False
        await self.reload_cluster(cluster_id)
        return True

    def attached_here(self) -> list[str]:
        """The clusters whose stream this replica holds."""
        return list(self._listeners)

    async def resync(self) -> None:
        """Catch up after the change feed was interrupted: re-read whatever differs."""
        snap = await self._store.load()
        bundles = {b.name: b for b in snap.bundles}
        for name in sorted({*self._bundles, *bundles}):
            mine = self._bundles.get(name)
            if mine is None or bundles.get(name) != mine[0]:
                await self.reload_bundle(name)
        clusters = {c.id: c for c in snap.clusters}
        for cluster_id in sorted({*self._clusters, *clusters}):
            if clusters.get(cluster_id) != self._clusters.get(cluster_id):
                await self.reload_cluster(cluster_id)
        groups = {g.name: g for g in snap.groups}
        for name in sorted({*self._groups, *groups}):
            if groups.get(name) != self._groups.get(name):
                await self.reload_group(name)
        controls = {c.name: c for c in snap.controls}
        for name in sorted({*self._controls, *controls}):
            if controls.get(name) != self._controls.get(name):
                await self.reload_control(name)
        self._import_rows(snap.deployments)
        self._regate(*self._bundles)
