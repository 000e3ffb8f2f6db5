"""Deployment states and their order, as Fleet names them (pure functions, no I/O)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Worst first: a roll-up shows the worst state present.
STATES = (
    "ErrApplied",
    "Offline",
    "WaitApplied",
    "Modified",
    "OutOfSync",
    "Pending",
    "NotReady",
    "Ready",
)
RANK = {state: i for i, state in enumerate(STATES)}
READY = "Ready"
ERR_APPLIED = "ErrApplied"


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


def deployment_state(f: DeploymentFacts) -> str:
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
        return "Offline"
    if f.released != f.desired:
        return "Pending" if f.held_by_dependency else "OutOfSync"
    if f.acked != f.desired:
        return "WaitApplied" if f.sent == f.desired else "Pending"
    if f.error:
        return ERR_APPLIED
    if f.status_revision != f.desired:
        return "NotReady"
    if f.modified:
        return "Modified"
    return READY if f.ready else "NotReady"


def worst(states: Iterable[str], *, default: str = READY) -> str:
    return min(states, key=RANK.__getitem__, default=default)
