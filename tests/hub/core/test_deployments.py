"""The deployment state machine: states derived from what spokes say, StateChanged to subscribers,
rows marked for the write-behind."""

from __future__ import annotations

from argosy.states import State
from hub.core.deployments import Deployment, Deployments, StatusUpdate
from hub.models import DeploymentRecord, ResourceStateRecord


class Recorder:
    def __init__(self) -> None:
        self.changes: list[tuple[str, str, State | None, State | None]] = []
        self.persisted: list[tuple[str, str]] = []

    def __call__(self, bundle: str, cluster_id: str, old: State | None, new: State | None) -> None:
        self.changes.append((bundle, cluster_id, old, new))

    def persist(self, dep: Deployment) -> None:
        self.persisted.append((dep.bundle, dep.cluster_id))


def released(bundle: str = "web", cluster_id: str = "c1", revision: str = "r1") -> Deployment:
    return Deployment(bundle, cluster_id, revision, released=revision)


def setup() -> tuple[Deployments, Recorder, Deployment]:
    deployments = Deployments(cluster_name={"c1": "one"}.__getitem__)
    recorder = Recorder()
    deployments.subscribe(recorder)
    deployments.persist = recorder.persist
    dep = deployments.add(released())
    deployments.changed(dep)
    return deployments, recorder, dep


def test_a_deployment_goes_from_pending_to_ready_and_subscribers_hear_each_change() -> None:
    deployments, recorder, dep = setup()
    deployments.on_sent("c1", "web", "r1")
    deployments.on_ack("c1", bundle="web", revision="r1", error="")
    deployments.on_status("c1", [StatusUpdate("web", "r1", True, "")])
    assert dep.state == State.READY
    assert dep.ready_since is not None
    assert [(old, new) for _, _, old, new in recorder.changes] == [
        (None, State.PENDING),
        (State.PENDING, State.WAIT_APPLIED),
        (State.WAIT_APPLIED, State.NOT_READY),
        (State.NOT_READY, State.READY),
    ]


def test_a_change_that_keeps_the_state_is_persisted_but_not_announced() -> None:
    deployments, recorder, _ = setup()
    deployments.on_ack("c1", bundle="web", revision="r1", error="")
    deployments.on_status("c1", [StatusUpdate("web", "r1", True, "")])
    heard = len(recorder.changes)
    deployments.on_status("c1", [StatusUpdate("web", "r1", True, "")])
    assert len(recorder.changes) == heard
    assert recorder.persisted[-1] == ("web", "c1")
    assert len(recorder.persisted) == 4  # changed(), ack, two reports


def test_what_was_sent_is_not_persisted_it_lives_with_the_stream() -> None:
    deployments, recorder, _ = setup()
    before = len(recorder.persisted)
    deployments.on_sent("c1", "web", "r1")
    assert len(recorder.persisted) == before
    deployments.on_stream_closed("c1")
    assert deployments.state_of("web", "c1") == State.PENDING


def test_a_report_sets_the_apply_error_only_for_the_acked_revision() -> None:
    deployments, _, dep = setup()
    deployments.on_ack("c1", bundle="web", revision="r1", error="")
    deployments.on_status("c1", [StatusUpdate("web", "r0", False, "old failure")])
    assert dep.error == ""
    deployments.on_status("c1", [StatusUpdate("web", "r1", False, "boom")])
    assert dep.error == "boom"
    assert dep.state == State.ERR_APPLIED


def test_a_modified_resource_shows_as_modified() -> None:
    deployments, _, dep = setup()
    deployments.on_ack("c1", bundle="web", revision="r1", error="")
    drifted = (ResourceStateRecord("/v1/ConfigMap/default/x", True, True, False, "data"),)
    deployments.on_status("c1", [StatusUpdate("web", "r1", True, "", drifted)])
    assert dep.state == State.MODIFIED


def test_acks_and_reports_for_another_clusters_deployment_are_refused() -> None:
    deployments, recorder, _ = setup()
    deployments.on_ack("c1", bundle="other", revision="r9", error="")
    deployments.on_status("c1", [StatusUpdate("other", "r9", True, "")])
    assert deployments.rejected == 2
    # A delete's ack names what was just removed: expected, not refused.
    deployments.on_ack("c1", bundle="other", revision="", error="")
    assert deployments.rejected == 2
    assert len(recorder.changes) == 1


def test_offline_overrides_the_reported_state_and_back() -> None:
    deployments, _, dep = setup()
    deployments.on_ack("c1", bundle="web", revision="r1", error="")
    deployments.on_status("c1", [StatusUpdate("web", "r1", True, "")])
    deployments.set_offline("c1", True)
    assert dep.state == State.OFFLINE
    deployments.set_offline("c1", False)
    assert deployments.state_of("web", "c1") == State.READY


def test_removal_is_announced_as_a_change_to_none() -> None:
    deployments, recorder, _ = setup()
    assert deployments.remove("c1", "web") is not None
    assert recorder.changes[-1] == ("web", "c1", State.PENDING, None)
    assert deployments.get("c1", "web") is None
    assert list(deployments.of_bundle("web")) == []
    assert deployments.remove("c1", "web") is None


def test_a_held_revision_is_out_of_sync_or_pending_on_a_dependency() -> None:
    deployments = Deployments()
    dep = deployments.add(Deployment("web", "c1", "r2", released="r1"))
    deployments.changed(dep)
    assert dep.state == State.OUT_OF_SYNC
    dep.held_by_dependency = True
    deployments.changed(dep)
    assert deployments.state_of("web", "c1") == State.PENDING


def test_rows_from_another_replica_update_only_clusters_not_served_here() -> None:
    deployments, _, dep = setup()
    other = deployments.add(released(cluster_id="c2"))
    deployments.changed(other)
    rows = [DeploymentRecord("web", c, "r1", "r1", "", "r1", True, (), "r1") for c in ("c1", "c2")]
    deployments.import_rows(rows, skip={"c1"})
    assert dep.state == State.PENDING
    assert other.state == State.READY


def test_wanted_revisions_are_desired_and_released_ones() -> None:
    deployments = Deployments()
    deployments.add(Deployment("web", "c1", "r2", released="r1"))
    deployments.add(Deployment("db", "c2", "r3", released="r3"))
    assert deployments.wanted_revisions() == {"r1", "r2", "r3"}
    assert deployments.drop_cluster("c1") == ["web"]
    assert deployments.wanted_revisions() == {"r3"}


def test_going_offline_and_a_stream_closing_persist_no_row() -> None:
    deployments, recorder, dep = setup()
    deployments.on_sent("c1", "web", "r1")
    recorder.persisted.clear()
    deployments.set_offline("c1", True)
    assert recorder.changes[-1] == ("web", "c1", State.WAIT_APPLIED, State.OFFLINE)
    deployments.set_offline("c1", False)
    deployments.on_stream_closed("c1")
    assert dep.sent == ""
    # Neither `offline` nor `sent` is a column: the store has nothing new to keep.
    assert recorder.persisted == []
