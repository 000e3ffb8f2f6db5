"""Deployment states and their order, as Fleet names them (pure functions, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass

from argosy.states import ORDER, RANK, State, worst

# Kept for the hub's readers; the list itself lives in argosy.states.
STATES: tuple[str, ...] = tuple(s.value for s in ORDER)
READY = State.READY
ERR_APPLIED = State.ERR_APPLIED
__all__ = ["ERR_APPLIED", "RANK", "READY", "STATES", "DeploymentFacts", "deployment_state", "worst"]


@dataclass(frozen=True)
class DeploymentFacts:
    """What the hub knows of one bundle on one cluster."""

    desired: str
    sent: str
    acked: str
    error: str
    status_revision: str
    ready: bool
    modified: bool
    released: str = ""
    """What the rollout lets through; the desired revision unless held back."""
    held_by_dependency: bool = False
    offline: bool = False
    render_error: str = ""
    """Why the hub cannot render the bundle for this cluster now."""


def deployment_state(f: DeploymentFacts) -> State:
    """The state of one deployment.

    Pending: nothing of the desired revision sent yet (or waiting for a dependency).
    OutOfSync: held back by the rollout or a pause. WaitApplied: sent, not yet acked.
    ErrApplied: the spoke failed to apply it. NotReady: applied, not (yet) reported ready.
    Modified: the live objects differ from the desired ones. Offline: the cluster's stream
    has been down past the grace period; its last known state is stale. A render error is the
    hub's own finding, whatever the cluster says: ErrApplied, as nothing can be applied.
    """
    if f.render_error:
        return ERR_APPLIED
    if f.offline:
        return State.OFFLINE
    if f.released != f.desired:
        return State.PENDING if f.held_by_dependency else State.OUT_OF_SYNC
    if f.acked != f.desired:
        return State.WAIT_APPLIED if f.sent == f.desired else State.PENDING
    if f.error:
        return ERR_APPLIED
    if f.status_revision != f.desired:
        return State.NOT_READY
    if f.modified:
        return State.MODIFIED
    return READY if f.ready else State.NOT_READY
