"""The rollout gate loop: dependsOn, pause and leases, driven by StateChanged, with fakes."""

from __future__ import annotations

from argosy.bundle import BundleSource, load_bundle
from argosy.states import State
from hub.core.deployments import Deployment, Deployments, StatusUpdate
from hub.core.inventory import Inventory
from hub.core.liveness import Liveness
from hub.core.rollouts import Rollouts
from hub.models import BundleControl, BundleRecord, ClusterRecord
from tests.hub.fakes import FakeListener, FakePeers, MemoryStore

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n"


class Presence:
    def set_connected(self, cluster_id: str, connected: bool) -> None:
        pass

    def set_offline(self, cluster_id: str, offline: bool) -> None:
        pass


class Rig:
    def __init__(self) -> None:
        self.store = MemoryStore()
        self.inventory = Inventory()
        self.deployments = Deployments()
        self.liveness = Liveness(
            inventory=self.inventory, deployments=self.deployments, presence=Presence()
        )
        self.touched: list[str] = []
        self.halts: list[tuple[str, str]] = []
        self.rollouts = Rollouts(
            store=self.store,
            inventory=self.inventory,
            deployments=self.deployments,
            liveness=self.liveness,
            touch_bundle=self.touched.append,
            on_halt=lambda name, reason: self.halts.append((name, reason)),
        )
        self.inventory.put_cluster(ClusterRecord("c1", "one", {}, "", 0))
        self.listener = FakeListener()
        self.liveness.listeners["c1"] = self.listener

    def bundle(self, name: str, fleet_yaml: str = "") -> None:
        files = {"cm.yaml": CM.format(name=name).encode()}
        if fleet_yaml:
            files["fleet.yaml"] = fleet_yaml.encode()
        bundle = load_bundle(BundleSource(name, files))
        record = BundleRecord(name, {}, files, bundle.revision, 1, 0, 0)
        self.inventory.bundles[name] = (record, bundle)
        self.rollouts.refresh_dependents()

    def deploy(self, name: str, revision: str, *, released: str = "") -> Deployment:
        dep = self.deployments.add(Deployment(name, "c1", revision, released=released))
        self.deployments.changed(dep)
        return dep

    def ready(self, name: str, revision: str) -> None:
        self.deployments.on_ack("c1", bundle=name, revision=revision, error="")
        self.deployments.on_status("c1", [StatusUpdate(name, revision, True, "")])


async def test_a_dependent_bundle_waits_for_its_dependency_then_is_released() -> None:
    rig = Rig()
    rig.bundle("db")
    rig.bundle("app", "dependsOn:\n- name: db\n")
    rig.deploy("db", "d1", released="d1")
    app = rig.deploy("app", "a1")
    rig.rollouts.regate("app")
    await rig.rollouts.gate_due()
    assert app.released == ""
    assert app.held == "waiting for db (Pending)"
    assert app.state == State.PENDING
    assert rig.listener.notified == []

    # db becoming Ready is a state change: the gate hears of it and looks at app again.
    rig.ready("db", "d1")
    await rig.rollouts.gate_due()
    assert app.released == "a1"
    assert app.held == ""
    assert app.state == State.PENDING  # released, not sent yet
    assert rig.listener.notified == ["app"]
    assert "app" in rig.touched


async def test_a_bundle_is_gated_again_only_when_something_changed() -> None:
    rig = Rig()
    rig.bundle("db")
    rig.bundle("app", "dependsOn:\n- name: db\n")
    rig.deploy("db", "d1", released="d1")
    # A new deployment's first state is a change: the gate looks at it.
    app = rig.deploy("app", "a1")
    await rig.rollouts.gate_due()
    assert app.held == "waiting for db (Pending)"
    # Being held moved app's own state (OutOfSync to Pending): one more look, then it rests.
    await rig.rollouts.gate_due()
    assert rig.touched == ["app", "app"]
    await rig.rollouts.gate_due()
    assert rig.touched == ["app", "app"]
    # A report that moves no state (db still Pending) re-gates nothing.
    rig.deployments.on_status("c1", [StatusUpdate("db", "d0", False, "")])
    await rig.rollouts.gate_due()
    assert rig.touched == ["app", "app"]


async def test_a_paused_bundle_holds_until_resumed_by_its_control() -> None:
    rig = Rig()
    rig.bundle("web", "paused: true\n")
    web = rig.deploy("web", "w1")
    rig.rollouts.regate("web")
    await rig.rollouts.gate_due()
    assert web.released == ""
    assert web.state == State.OUT_OF_SYNC
    assert web.held == "paused"
    plan = rig.rollouts.current("web")
    assert plan is not None and plan.state == "Paused"

    rig.inventory.controls["web"] = BundleControl("web", False)
    rig.rollouts.regate("web", ungated_too=True)
    await rig.rollouts.gate_due()
    assert web.released == "w1"
    assert rig.listener.notified == ["web"]
    # No longer gated: no rollout to show.
    assert rig.rollouts.current("web") is None


async def test_a_replica_without_the_lease_shows_the_plan_but_releases_nothing() -> None:
    rig = Rig()
    peers = FakePeers(leading=False)
    rig.rollouts.peers = peers
    rig.bundle("web", "rolloutStrategy:\n  maxUnavailable: 100%\n")
    web = rig.deploy("web", "w1")
    rig.rollouts.regate("web")
    await rig.rollouts.gate_due()
    assert web.released == ""
    assert rig.rollouts.current("web") is not None
    assert peers.published == []

    # The lease holder's decision arrives from the change feed.
    rig.rollouts.remote_released("web", [("c1", "w1"), ("c9", "w1")])
    assert web.released == "w1"
    assert rig.listener.notified == ["web"]
    # A stale decision (not the desired revision) changes nothing.
    rig.rollouts.remote_released("web", [("c1", "w0")])
    assert rig.listener.notified == ["web"]


async def test_the_lease_holder_releases_and_tells_the_other_replicas() -> None:
    rig = Rig()
    peers = FakePeers()
    rig.rollouts.peers = peers
    rig.bundle("web", "rolloutStrategy:\n  maxUnavailable: 100%\n")
    web = rig.deploy("web", "w1")
    rig.rollouts.regate("web")
    await rig.rollouts.gate_due()
    assert web.released == "w1"
    assert peers.published == [("released", "web", ("c1/w1",))]


async def test_a_dropped_bundle_is_forgotten() -> None:
    rig = Rig()
    rig.bundle("web", "paused: true\n")
    rig.deploy("web", "w1")
    rig.rollouts.regate("web")
    await rig.rollouts.gate_due()
    assert rig.rollouts.current("web") is not None
    rig.rollouts.drop("web")
    assert rig.rollouts.current("web") is None


async def test_a_removed_deployment_re_gates_its_settled_bundle() -> None:
    rig = Rig()
    rig.inventory.put_cluster(ClusterRecord("c2", "two", {}, "", 0))
    rig.bundle("web", "rolloutStrategy:\n  maxUnavailable: 100%\n")
    web = rig.deploy("web", "w1")
    rig.deployments.changed(rig.deployments.add(Deployment("web", "c2", "w1")))
    rig.rollouts.regate("web")
    await rig.rollouts.gate_due()
    assert web.released == "w1"
    rig.ready("web", "w1")
    await rig.rollouts.gate_due()
    plan = rig.rollouts.current("web")
    assert plan is not None and plan.state == "Progressing"  # c2 is not Ready yet

    # The bundle no longer reaches c2: its rollout counts c1 alone, which is Ready.
    rig.deployments.remove("c2", "web")
    await rig.rollouts.gate_due()
    plan = rig.rollouts.current("web")
    assert plan is not None and plan.state == "Complete"


async def test_a_halt_is_told_once_and_only_by_the_replica_that_decides() -> None:
    rig = Rig()
    rig.bundle("web", "rolloutStrategy:\n  maxFailures: 1\n")
    dep = rig.deploy("web", "w1", released="w1")
    rig.deployments.on_ack("c1", bundle="web", revision="w1", error="boom")
    await rig.rollouts.evaluate("web", decide=False)  # a replica without the lease
    assert rig.halts == []
    await rig.rollouts.evaluate("web")
    assert rig.halts == [("web", rig.inventory.controls["web"].halted)]
    assert "1 cluster(s) failed, maxFailures is 1" in rig.halts[0][1]
    await rig.rollouts.evaluate("web")  # halted already: not halted again
    assert len(rig.halts) == 1 and dep.error == "boom"
