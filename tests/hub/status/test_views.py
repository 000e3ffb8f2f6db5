"""The pure views: explain (one line), detail and a bundle's rollout."""

from __future__ import annotations

from argosy.states import State
from hub.core.deployments import Deployment, Deployments
from hub.models import ResourceStateRecord
from hub.rollout import COMPLETE, PROGRESSING
from hub.status import detail, explain, rollout_view


def ready() -> Deployment:
    deployments = Deployments()
    dep = deployments.add(
        Deployment("web", "c1", "r1", acked="r1", status_revision="r1", ready=True, released="r1")
    )
    deployments.changed(dep)
    return dep


def test_explain_names_the_first_thing_wrong() -> None:
    dep = ready()
    assert explain(dep, offline=False) == ""
    assert explain(dep, offline=True) == "cluster offline; last report is stale"
    dep.resources = (
        ResourceStateRecord("apps/Deployment/default/web", False, False, False, "0/1"),
    )
    assert explain(dep, offline=False) == "deployment.apps default/web not ready: 0/1"
    dep.error = "boom"
    assert explain(dep, offline=False) == "boom"
    dep.held = "paused"
    assert explain(dep, offline=False) == "paused"
    dep.render_error = "no label region"
    assert explain(dep, offline=True) == "no label region"


def test_detail_of_an_offline_cluster_shows_the_last_known_state_as_stale() -> None:
    dep = ready()
    dep.state = State.OFFLINE
    view = detail(dep, cluster="one", offline=True)
    assert (view.state, view.stale) == (State.READY, True)
    view = detail(dep, cluster="one", offline=False)
    assert (view.state, view.stale, view.revision) == (State.OFFLINE, False, "r1")


def test_an_ungated_bundle_shows_a_rollout_complete_once_all_are_ready() -> None:
    assert rollout_view(None, ready=2, desired=2).state == COMPLETE
    assert rollout_view(None, ready=1, desired=2).state == PROGRESSING
