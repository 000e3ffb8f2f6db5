"""The rollout gate loop: which held-back deployments to release, when, around the pure
candidate building and planning of hub/rollout.py.

It subscribes to StateChanged: a state change can free this bundle's rollout or a dependent
bundle's gate, or (for a bundle whose rollout is settled) complete or reopen a partition. Re-gates
are coalesced over a short window; timers (bake, progress deadline) wake the loop on their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable

from argosy.states import State
from hub.core.deployments import STALLED, Deployment, Deployments
from hub.core.inventory import Inventory
from hub.core.liveness import Liveness
from hub.core.ports import Peers
from hub.models import BundleControl
from hub.persistence.protocol import Store
from hub.rollout import Candidate, Progress, RolloutPlan, plan_rollout

log = logging.getLogger(__name__)


class Rollouts:
    def __init__(
        self,
        *,
        store: Store,
        inventory: Inventory,
        deployments: Deployments,
        liveness: Liveness,
        touch_bundle: Callable[[str], None] = lambda name: None,
        on_halt: Callable[[str, str], None] = lambda name, reason: None,
    ) -> None:
        self._store = store
        self._inventory = inventory
        self._deployments = deployments
        self._liveness = liveness
        # Something shown with the bundle (its rollout) changed.
        self._touch_bundle = touch_bundle
        # Told (bundle, reason) when this replica halts a rollout (the event log).
        self._on_halt = on_halt
        self.peers: Peers | None = None
        # The last plan per gated bundle, for status.
        self.plans: dict[str, RolloutPlan] = {}
        self._dependents: dict[str, set[str]] = {}
        self._dirty: set[str] = set()
        # Gated bundles with everything released, with live per-partition counts: only a new
        # input (revision, pause, resume, membership), a partition becoming or ceasing to be
        # wholly Ready, a failure or a timer makes them worth gating again.
        self._settled: dict[str, Progress] = {}
        self._wake = asyncio.Event()
        self._wake_at: dict[str, float] = {}
        deployments.subscribe(self.state_changed)

    # --- what makes a bundle worth gating again ---------------------------------------------

    def state_changed(
        self, bundle: str, cluster_id: str, old: State | None, new: State | None
    ) -> None:
        if new is None:
            # Removed (its bundle no longer reaches the cluster): a settled bundle's counts
            # still hold the cluster, and a dependent may now be waiting for nothing here.
            self.regate(bundle, *self._dependents.get(bundle, ()))
            return
        # A settled bundle has nothing left to release: it is re-gated only when the change
        # completes (or reopens) a partition or is a failure, so status churn costs O(1).
        progress = self._settled.get(bundle)
        if progress is not None and (
            progress.move(
                cluster_id,
                was_ready=old == State.READY,
                is_ready=new == State.READY,
                now=time.monotonic(),
            )
            or State.ERR_APPLIED in (old, new)
        ):
            # Kept (reads stay exact) while the gate looks again for failures and timers.
            self._dirty.add(bundle)
            self._wake.set()
        gated = self._inventory.gated
        for name in (bundle, *self._dependents.get(bundle, ())):
            if name not in self._settled and gated(name):
                self._dirty.add(name)
                self._wake.set()
        if new in STALLED:
            dep = self._deployments.get(cluster_id, bundle)
            if dep is not None:
                self._watch_deadline(dep, new)

    def _watch_deadline(self, dep: Deployment, state: State) -> None:
        """Wake the gate when this deployment's progress deadline passes: time alone turns a
        slow cluster into a failure, and no report may ever come to say so."""
        since = dep.stalled_since(state)
        if since is None or not self._inventory.gated(dep.bundle):
            return
        strategy = self._inventory.options(dep.bundle).rollout_strategy
        if strategy is None or not strategy.progress_deadline_seconds:
            return
        at = since + strategy.progress_deadline_seconds
        if at < self._wake_at.get(dep.bundle, float("inf")):
            self._wake_at[dep.bundle] = at
            self._wake.set()

    def regate(self, *names: str, ungated_too: bool = False) -> None:
        """Look at these bundles' rollouts again (their inputs changed), settled or not.

        ungated_too: a bundle that just stopped being gated (unpaused, resumed) still has to
        have what it held back released, once.
        """
        for name in names:
            self._settled.pop(name, None)
            if ungated_too or self._inventory.gated(name):
                self._dirty.add(name)
        self._wake.set()

    def refresh_dependents(self) -> None:
        self._dependents = self._inventory.dependents()

    def drop(self, name: str) -> None:
        self.plans.pop(name, None)
        self._wake_at.pop(name, None)
        self._settled.pop(name, None)

    # --- the gate -----------------------------------------------------------------------------

    def _blocked(self, dependencies: list[tuple[str, tuple[str, ...]]], cluster_id: str) -> str:
        waiting = []
        state_of = self._deployments.state_of
        for dep_name, accepted in dependencies:
            state = state_of(dep_name, cluster_id)
            if state not in accepted:
                waiting.append(f"{dep_name} ({state or 'not deployed here'})")
        return f"waiting for {', '.join(waiting)}" if waiting else ""

    async def run(self, *, window: float = 0.05) -> None:
        """Re-gate bundles whose rollout inputs changed, coalesced over a short window."""
        while True:
            timeout = None
            if self._wake_at:
                timeout = max(0.0, min(self._wake_at.values()) - time.monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            await asyncio.sleep(window)
            await self.gate_due()

    async def gate_due(self) -> None:
        """Gate every bundle marked or whose timer is due (one pass of `run`)."""
        self._wake.clear()
        now = time.monotonic()
        due = {b for b, t in self._wake_at.items() if t <= now}
        dirty, self._dirty = self._dirty | due, set()
        for name in sorted(dirty):
            self._wake_at.pop(name, None)
            if name in self._inventory.bundles:
                # With replicas, only the holder of the bundle's lease releases: two
                # replicas deciding at once could together exceed the budget.
                decide = self.peers is None or await self.peers.lead(name)
                await self.evaluate(name, decide=decide)

    async def evaluate(self, name: str, *, decide: bool = True) -> None:
        """Run the gate for one bundle and release what it allows.

        decide=False (a replica without the lease) only refreshes what status shows; the
        lease holder's releases arrive through `remote_released`.
        """
        # Changes made while this runs must re-gate it, not move counts about to be replaced.
        self._settled.pop(name, None)
        now = time.monotonic()
        inventory = self._inventory
        strategy = inventory.options(name).rollout_strategy
        control = inventory.controls.get(name, BundleControl(name))
        dependencies = inventory.dependencies(name)
        offline = self._deployments.offline
        candidates = []
        deps: dict[str, Deployment] = {}
        for dep in self._deployments.of_bundle(name):
            cluster_id = dep.cluster_id
            deps[cluster_id] = dep
            cluster = inventory.clusters[cluster_id]
            state = dep.state
            released = dep.released == dep.desired
            failed = bool(dep.render_error) or (
                released and dep.acked == dep.desired and bool(dep.error)
            )
            candidates.append(
                Candidate(
                    cluster_id=cluster_id,
                    name=cluster.name,
                    labels=cluster.labels,
                    groups=inventory.groups_of(cluster_id),
                    released=released,
                    up_to_date=released and state == State.READY,
                    available=cluster_id not in offline
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
            strategy, candidates, now=now, paused=inventory.paused(name), halted=control.halted
        )
        # An ungated bundle is only here to release what a gate held back: it shows no rollout.
        if inventory.gated(name):
            self.plans[name] = plan
        else:
            self.plans.pop(name, None)
        release = plan.release if decide else frozenset()
        if plan.halt and decide:
            reason = plan.halt_reason
            # Only the halt: a pause or pin written meanwhile stays.
            await inventory.update_control(name, self._store.put_bundle_control, halted=reason)
            log.warning("rollout of bundle %s halted: %s", name, reason)
            self._on_halt(name, reason)
        if plan.wake_at is not None:
            self._wake_at[name] = plan.wake_at
        touched = []
        by_id = {c.cluster_id: c for c in candidates}
        changed = self._deployments.changed
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
                changed(dep)
        for cluster_id in touched:
            self._liveness.notify(cluster_id, [name])
        if inventory.gated(name) and all(d.released == d.desired for d in deps.values()):
            self._settled[name] = Progress.of(plan)
        if touched and self.peers is not None:
            self.peers.publish("released", name, ids=[f"{c}/{deps[c].released}" for c in touched])
        self._touch_bundle(name)

    def remote_released(self, bundle: str, released: Iterable[tuple[str, str]]) -> None:
        """The replica holding the bundle's lease released these (cluster, revision) pairs."""
        now = time.monotonic()
        for cluster_id, revision in released:
            dep = self._deployments.get(cluster_id, bundle)
            if dep is None or dep.desired != revision or dep.released == revision:
                continue  # a newer desired revision awaits the lease holder's next decision
            dep.released, dep.released_at = revision, now
            dep.held, dep.held_by_dependency = "", False
            self._deployments.changed(dep)
            self._liveness.notify(cluster_id, [bundle])
        self._touch_bundle(bundle)

    def current(self, name: str) -> RolloutPlan | None:
        """The bundle's rollout as status shows it (None: not gated)."""
        plan = self.plans.get(name)
        progress = self._settled.get(name)
        if plan is None or progress is None:
            return plan
        strategy = self._inventory.options(name).rollout_strategy
        bake = strategy.bake_seconds if strategy else 0
        return progress.current(plan, now=time.monotonic(), bake_seconds=bake)
