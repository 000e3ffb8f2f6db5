"""Pure views for people: what is wrong with a deployment in one line (the bundle summary), a
deployment in detail, and a bundle's rollout. No I/O, no state, no protobuf: the servicer
converts them at its edge.
"""

from __future__ import annotations

from dataclasses import dataclass

from argosy.manifests import describe_key
from hub.core.deployments import Deployment
from hub.models import ResourceStateRecord
from hub.rollout import COMPLETE, PROGRESSING, RolloutPlan
from hub.states import deployment_state


def explain(dep: Deployment, *, offline: bool) -> str:
    """One line on what is wrong with a deployment, for the bundle summary ('' if nothing)."""
    if dep.render_error:
        return dep.render_error
    if offline:
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


@dataclass(frozen=True)
class DetailView:
    """One deployment in detail, as `argosy status --detail` shows it."""

    bundle: str
    cluster: str
    state: str
    stale: bool
    held: str
    revision: str
    applied_revision: str
    message: str
    resources: tuple[ResourceStateRecord, ...]


def shown_state(dep: Deployment, *, offline: bool) -> str:
    """The state a deployment's detail shows. Offline, the last known one (what the spoke last
    said) rather than Offline: the detail is for finding out what it was doing."""
    return (deployment_state(dep.facts()) if offline else dep.state) or ""


def detail(dep: Deployment, *, cluster: str, offline: bool) -> DetailView:
    """A deployment in detail, its state as `shown_state` says, marked stale when offline."""
    state = shown_state(dep, offline=offline)
    return DetailView(
        bundle=dep.bundle,
        cluster=cluster,
        state=state,
        stale=offline,
        held=dep.held,
        revision=dep.desired,
        applied_revision=dep.acked,
        message=dep.render_error or dep.error,
        resources=dep.resources,
    )


def rollout_view(plan: RolloutPlan | None, *, ready: int, desired: int) -> RolloutPlan:
    """A bundle's rollout as shown: an ungated bundle (no plan) is Complete once every cluster
    is Ready, else Progressing."""
    if plan is not None:
        return plan
    state = COMPLETE if ready == desired else PROGRESSING
    return RolloutPlan(release=frozenset(), state=state, partitions=())
