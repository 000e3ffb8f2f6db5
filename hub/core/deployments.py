"""The per-cluster deployment state machine: one Deployment per (bundle, cluster) the bundle
reaches, the facts the hub knows of it, and the state derived from them.

Every change goes through `Deployments.changed`, which derives the state (hub/states.py, pure)
and, when it moved, tells the subscribers: StateChanged(bundle, cluster, old, new). The status book,
the rollout gate and whoever comes next subscribe; this module knows none of them. A change the
store should keep also goes to the write-behind (`persist`), state change or not.

Spoke acks and reports land here without awaiting: they are the hot path, so a change costs one
state derivation and one call per subscriber, and no allocation beyond the facts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from argosy.states import State
from hub.models import DeploymentRecord, ResourceStateRecord
from hub.states import DeploymentFacts, deployment_state

log = logging.getLogger(__name__)

# States in which a released deployment is still on its way to Ready: past
# progressDeadlineSeconds in one of these, it counts as a failure of the rollout.
STALLED = frozenset({State.WAIT_APPLIED, State.NOT_READY})


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
    # The state last derived (None: not derived yet); what StateChanged's `old` is.
    state: State | None = None

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
class StatusUpdate:
    """One deployment's state as a spoke reported it."""

    bundle: str
    revision: str
    ready: bool
    apply_error: str
    resources: tuple[ResourceStateRecord, ...] = field(default=())


class StateChanged(Protocol):
    """A subscriber to state changes. Called as (bundle, cluster id, old, new): positional
    arguments rather than an event object, so the hot path allocates nothing for it. new is None
    when the deployment was removed (its bundle no longer reaches the cluster)."""

    def __call__(
        self, bundle: str, cluster_id: str, old: State | None, new: State | None, /
    ) -> None: ...


def _nothing(dep: Deployment) -> None:
    pass


class Deployments:
    """Every deployment, by cluster and by bundle, and the state machine over them."""

    def __init__(self, *, cluster_name: Callable[[str], str] = str) -> None:
        self.by_cluster: dict[str, dict[str, Deployment]] = {}
        self.by_bundle: dict[str, set[str]] = {}
        # Clusters down past the grace period (set by liveness): a fact of their state.
        self.offline: set[str] = set()
        # Acks and reports naming another cluster's deployment, refused.
        self.rejected = 0
        self._subscribers: list[StateChanged] = []
        self.persist: Callable[[Deployment], None] = _nothing
        self._cluster_name = cluster_name

    def subscribe(self, subscriber: StateChanged) -> None:
        """Call subscriber on every state change, after those subscribed before it."""
        self._subscribers.append(subscriber)

    # --- the state machine --------------------------------------------------------------------

    def changed(self, dep: Deployment, *, persist: bool = True) -> None:
        """Recompute a deployment's state; persist=False when only in-memory fields changed."""
        state = deployment_state(dep.facts(offline=dep.cluster_id in self.offline))
        if state == State.READY and dep.ready_since is None:
            dep.ready_since = time.monotonic()
        elif state != State.READY:
            if dep.ready_since is not None:
                dep.left_ready_at = time.monotonic()
            dep.ready_since = None
        old, dep.state = dep.state, state
        if persist:
            self.persist(dep)
        if old != state:
            bundle, cluster_id = dep.bundle, dep.cluster_id
            for subscriber in self._subscribers:
                subscriber(bundle, cluster_id, old, state)

    # --- the collection -----------------------------------------------------------------------

    def get(self, cluster_id: str, bundle: str) -> Deployment | None:
        return self.by_cluster.get(cluster_id, {}).get(bundle)

    def of_cluster(self, cluster_id: str) -> Mapping[str, Deployment]:
        return self.by_cluster.get(cluster_id, {})

    def of_bundle(self, bundle: str) -> Iterable[Deployment]:
        for cluster_id in self.by_bundle.get(bundle, ()):
            yield self.by_cluster[cluster_id][bundle]

    def state_of(self, bundle: str, cluster_id: str) -> State | None:
        dep = self.by_cluster.get(cluster_id, {}).get(bundle)
        return dep.state if dep is not None else None

    def add(self, dep: Deployment) -> Deployment:
        self.by_cluster.setdefault(dep.cluster_id, {})[dep.bundle] = dep
        self.by_bundle.setdefault(dep.bundle, set()).add(dep.cluster_id)
        return dep

    def remove(self, cluster_id: str, bundle: str) -> Deployment | None:
        """Remove a deployment (its bundle no longer reaches the cluster); subscribers see it
        go to None."""
        dep = self.by_cluster.get(cluster_id, {}).pop(bundle, None)
        if dep is None:
            return None
        self.by_bundle.get(bundle, set()).discard(cluster_id)
        old, dep.state = dep.state, None
        if old is not None:
            for subscriber in self._subscribers:
                subscriber(bundle, cluster_id, old, None)
        return dep

    def add_cluster(self, cluster_id: str) -> None:
        self.by_cluster.setdefault(cluster_id, {})

    def drop_cluster(self, cluster_id: str) -> list[str]:
        """Forget a deleted cluster's deployments, silently: whoever shows the cluster drops it
        whole. Returns their bundles."""
        bundles = list(self.by_cluster.pop(cluster_id, {}))
        for bundle in bundles:
            self.by_bundle.get(bundle, set()).discard(cluster_id)
        self.offline.discard(cluster_id)
        return bundles

    def drop_bundle(self, bundle: str) -> None:
        self.by_bundle.pop(bundle, None)

    def wanted_revisions(self) -> set[str]:
        """Every revision some deployment wants (desired or released). O(deployments)."""
        return {
            r
            for deps in self.by_cluster.values()
            for d in deps.values()
            for r in (d.desired, d.released)
        }

    def set_offline(self, cluster_id: str, offline: bool) -> None:
        if offline:
            self.offline.add(cluster_id)
        else:
            self.offline.discard(cluster_id)
        for dep in self.of_cluster(cluster_id).values():
            self.changed(dep, persist=False)  # offline is no column: only the state moves

    # --- what spokes say ----------------------------------------------------------------------

    def on_hello(self, cluster_id: str, applied: Mapping[str, str]) -> None:
        for name, dep in self.of_cluster(cluster_id).items():
            held = applied.get(name, "")
            if dep.acked != held or dep.sent != held:
                dep.acked = dep.sent = held
                self.changed(dep)

    def on_sent(self, cluster_id: str, bundle: str, revision: str) -> None:
        dep = self.by_cluster.get(cluster_id, {}).get(bundle)
        if dep is not None and dep.sent != revision:
            dep.sent = revision
            self.changed(dep, persist=False)  # `sent` lives only as long as the stream

    def on_ack(self, cluster_id: str, *, bundle: str, revision: str, error: str) -> None:
        dep = self.by_cluster.get(cluster_id, {}).get(bundle)
        if dep is None:
            # A delete's ack (empty revision) names what was just removed: that is expected.
            if revision:
                self._reject(cluster_id, "an ack", bundle)
            return
        if (dep.acked, dep.error) != (revision, error):
            dep.acked, dep.error = revision, error
            self.changed(dep)

    def on_status(self, cluster_id: str, updates: Iterable[StatusUpdate]) -> None:
        deps = self.by_cluster.get(cluster_id, {})
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
            self.changed(dep)

    def on_stream_closed(self, cluster_id: str) -> None:
        """What was sent but not acked on a stream that ended may never have arrived."""
        for dep in self.of_cluster(cluster_id).values():
            if dep.sent != dep.acked:
                dep.sent = dep.acked
                self.changed(dep, persist=False)  # `sent` is not stored either

    def import_rows(
        self, rows: Iterable[DeploymentRecord], *, skip: Container[str] = frozenset()
    ) -> None:
        """What another replica's spokes reported (skip: clusters whose stream is here)."""
        for row in rows:
            if row.cluster_id in skip:
                continue  # this replica holds the stream: its own view is the fresher one
            dep = self.get(row.cluster_id, row.bundle)
            if dep is None:
                continue
            # Spoke-reported fields only: desired is derived here, released is decided by
            # the lease holder and arrives through `release`.
            dep.acked, dep.sent, dep.error = row.acked, row.acked, row.error
            dep.status_revision, dep.ready, dep.resources = (
                row.status_revision,
                row.ready,
                row.resources,
            )
            self.changed(dep, persist=False)

    def _reject(self, cluster_id: str, what: str, bundle: str) -> None:
        """A spoke named a deployment that is not its own: refuse it, say so, carry on."""
        self.rejected += 1
        log.warning(
            "rejected %s from cluster %s for bundle %r: not a deployment of that cluster",
            what,
            self._cluster_name(cluster_id),
            bundle,
        )
