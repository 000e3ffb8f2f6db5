"""The live picture and controlled change, end to end with simulated spokes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from pathlib import Path

from argosy.api.v1 import fleet_pb2, spoke_pb2
from spoke.backends.simulated import SimulatedCluster, SimulationSettings
from tests.harness import (
    RunningHub,
    RunningSpoke,
    bundle_spec,
    bundle_status,
    eventually,
    running_hub,
    start_spoke,
)

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{v: '{v}'}}\n"
DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec: {{containers: [{{name: c, image: "img:{v}"}}]}}
"""


async def token_of(hub: RunningHub) -> str:
    return (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token


async def apply(hub: RunningHub, name: str, files: Mapping[str, str]) -> str:
    resp = await hub.stub.ApplyBundles(
        fleet_pb2.ApplyBundlesRequest(bundles=[bundle_spec(name, files)]), timeout=30
    )
    return resp.bundles[0].revision


async def stop_all(spokes: list[RunningSpoke]) -> None:
    for s in spokes:
        await s.stop()


ROLLOUT = """\
rolloutStrategy:
  bakeSeconds: 1
  maxFailures: 1
  partitions:
  - name: p1
    clusterSelector: {matchLabels: {part: "1"}}
  - name: p2
    clusterSelector: {matchLabels: {part: "2"}}
  - name: p3
    clusterSelector: {matchLabels: {part: "3"}}
"""


V1 = {"/ConfigMap//app"}
V2 = {"/ConfigMap//app", "/ConfigMap//canary-breaker"}
V3 = {"/ConfigMap//app", "/ConfigMap//canary-fixed"}


def held_keys(s: RunningSpoke) -> set[str]:
    """The resources of the revision this spoke holds."""
    return set(s.spoke.state.deployments["web"].resources)


async def test_partitioned_rollout_halts_on_failure_then_resumes(tmp_path: Path) -> None:
    async with running_hub(tmp_path / "hub") as hub:
        token = await token_of(hub)
        spokes = []
        for part in (1, 2, 3):
            for i in range(10):
                name = f"p{part}-{i}"
                # One cluster of partition 1 fails to apply anything named canary-breaker.
                fail = "canary-breaker" if name == "p1-0" else ""
                cluster = SimulatedCluster(
                    SimulationSettings(ready_delay=0.02, fail_pattern=fail), name=name
                )
                spokes.append(
                    start_spoke(
                        hub=hub,
                        name=name,
                        labels={"part": str(part)},
                        token=token,
                        data_dir=tmp_path / name,
                        cluster=cluster,
                    )
                )
        try:
            await eventually(
                lambda: all(s.spoke.link.connected.is_set() for s in spokes), timeout=20
            )
            base = {"fleet.yaml": ROLLOUT, "app.yaml": CM.format(name="app", v="1")}
            await apply(hub, "web", base)

            async def rollout_is(state: str) -> bool:
                b = await bundle_status(hub.stub, "web")
                return b is not None and b.rollout.state == state

            await eventually(lambda: rollout_is("Complete"), timeout=30, what="v1 rolled out")
            broken = {**base, "breaker.yaml": CM.format(name="canary-breaker", v="1")}
            await apply(hub, "web", broken)
            await eventually(lambda: rollout_is("Halted"), timeout=30, what="halted")
            b = await bundle_status(hub.stub, "web")
            assert b is not None
            assert "halted" in b.rollout.reason and "1 cluster(s) failed" in b.rollout.reason
            assert [(p.name, p.state) for p in b.rollout.partitions][1:] == [
                ("p2", "Pending"),
                ("p3", "Pending"),
            ]
            assert b.state_counts and {s.state for s in b.state_counts} >= {"OutOfSync"}
            for s in spokes:
                held = held_keys(s)
                if s.spoke.settings.name.startswith("p1"):
                    assert held == V2
                else:
                    assert held == V1, f"{s.spoke.settings.name} got v2 past the halt"
            # The halt sticks while nothing changes.
            fixed = {**base, "breaker.yaml": CM.format(name="canary-fixed", v="1")}
            await apply(hub, "web", fixed)
            await asyncio.sleep(0.5)
            assert await rollout_is("Halted")
            assert all(
                held_keys(s) == V1 for s in spokes if not s.spoke.settings.name.startswith("p1")
            )
            await hub.stub.ResumeRollout(fleet_pb2.ResumeRolloutRequest(name="web"), timeout=5)
            await eventually(lambda: rollout_is("Complete"), timeout=30, what="v3 rolled out")
            b = await bundle_status(hub.stub, "web")
            assert b is not None and (b.clusters_ready, b.clusters_desired) == (30, 30)
            assert all(held_keys(s) == V3 for s in spokes)
        finally:
            await stop_all(spokes)


PARTITIONS_ONLY = """\
rolloutStrategy:
  partitions:
  - {name: p1, clusterSelector: {matchLabels: {part: "1"}}}
  - {name: p2, clusterSelector: {matchLabels: {part: "2"}}}
  - {name: p3, clusterSelector: {matchLabels: {part: "3"}}}
"""


async def test_rollout_completes_when_the_last_partition_becomes_ready(tmp_path: Path) -> None:
    """Everything is released at once (no bake, 100% budgets); the clusters become Ready well
    after the last gate ran. The rollout must still say Complete, partition by partition."""
    async with running_hub(tmp_path / "hub") as hub:
        token = await token_of(hub)
        spokes = [
            start_spoke(
                hub=hub,
                name=f"p{part}",
                labels={"part": str(part)},
                token=token,
                data_dir=tmp_path / f"p{part}",
                ready_delay=0.2 + 0.4 * part,
            )
            for part in (1, 2, 3)
        ]
        try:
            await eventually(lambda: all(s.spoke.link.connected.is_set() for s in spokes))
            files = {"fleet.yaml": PARTITIONS_ONLY, "app.yaml": DEPLOY.format(name="app", v="1")}
            await apply(hub, "web", files)

            async def rollout() -> fleet_pb2.RolloutStatus | None:
                b = await bundle_status(hub.stub, "web")
                return b.rollout if b is not None and b.clusters_ready == 3 else None

            await eventually(rollout, what="all Ready")
            # Complete as soon as everything is Ready: never a stale Progressing in between.
            r = await rollout()
            assert r is not None and r.state == "Complete"
            assert [(p.name, p.state, p.unavailable) for p in r.partitions] == [
                ("p1", "Complete", 0),
                ("p2", "Complete", 0),
                ("p3", "Complete", 0),
            ]
        finally:
            await stop_all(spokes)


async def _rollout_state(hub: RunningHub, state: str) -> bool:
    b = await bundle_status(hub.stub, "web")
    return b is not None and b.rollout.state == state


async def test_progress_deadline_halts_a_rollout_with_a_stuck_cluster(tmp_path: Path) -> None:
    """A cluster that never becomes Ready fails once progressDeadlineSeconds passes, with no
    report to trigger it: the rollout halts, naming it, and the next partition never starts."""
    async with running_hub(tmp_path / "hub") as hub:
        token = await token_of(hub)
        spokes = [
            start_spoke(
                hub=hub,
                name=name,
                labels={"part": part},
                token=token,
                data_dir=tmp_path / name,
                ready_delay=3600 if name == "stuck" else 0.05,
            )
            for name, part in (("ok", "1"), ("stuck", "1"), ("later", "2"))
        ]
        try:
            await eventually(lambda: all(s.spoke.link.connected.is_set() for s in spokes))
            strategy = (
                "rolloutStrategy:\n  progressDeadlineSeconds: 1\n  bakeSeconds: 1\n"
                "  partitions:\n"
                '  - {name: first, clusterSelector: {matchLabels: {part: "1"}}}\n'
                '  - {name: second, clusterSelector: {matchLabels: {part: "2"}}}\n'
            )
            files = {"fleet.yaml": strategy, "app.yaml": DEPLOY.format(name="app", v="1")}
            await apply(hub, "web", files)
            await eventually(lambda: _rollout_state(hub, "Halted"), timeout=10, what="halted")
            b = await bundle_status(hub.stub, "web")
            assert b is not None
            assert "stuck: not Ready within progressDeadlineSeconds (1s)" in b.rollout.reason
            assert b.rollout.failures == 1
            assert [(p.name, p.state) for p in b.rollout.partitions] == [
                ("first", "Progressing"),
                ("second", "Pending"),
            ]
            assert "web" not in spokes[2].spoke.state.deployments
        finally:
            await stop_all(spokes)


async def test_a_complete_rollout_halts_when_a_cluster_stays_not_ready_past_the_deadline(
    tmp_path: Path,
) -> None:
    """Everything released and Ready, then one cluster's workload stops being ready: once the
    deadline passes with no further report, the rollout halts naming it."""
    async with running_hub(tmp_path / "hub") as hub:
        token = await token_of(hub)
        spoke = start_spoke(hub=hub, name="c0", labels={}, token=token, data_dir=tmp_path / "c")
        try:
            await eventually(spoke.spoke.link.connected.is_set)
            strategy = "rolloutStrategy:\n  progressDeadlineSeconds: 1\n"
            files = {"fleet.yaml": strategy, "app.yaml": DEPLOY.format(name="app", v="1")}
            await apply(hub, "web", files)
            await eventually(lambda: _rollout_state(hub, "Complete"), what="Complete")
            spoke.cluster.inject_drift(
                "apps/Deployment/default/app", {"status": {"readyReplicas": 0}}
            )
            await eventually(lambda: _state_count(hub, "web", "NotReady", 1), what="NotReady")
            await eventually(lambda: _rollout_state(hub, "Halted"), timeout=10, what="halted")
            b = await bundle_status(hub.stub, "web")
            assert b is not None
            assert "c0: not Ready within progressDeadlineSeconds (1s)" in b.rollout.reason
        finally:
            await spoke.stop()


async def test_depends_on_holds_b_until_a_is_ready_on_that_cluster(tmp_path: Path) -> None:
    violations: list[str] = []
    async with running_hub(tmp_path / "hub") as hub:
        token = await token_of(hub)
        spokes: list[RunningSpoke] = []

        def watcher(name: str, cluster: SimulatedCluster) -> None:
            def on_message(msg: spoke_pb2.ConnectResponse) -> None:
                if msg.WhichOneof("msg") == "upsert" and msg.upsert.bundle == "b":
                    a = cluster.objects.get("apps/Deployment/default/db")
                    ready = a is not None and a.get("status", {}).get("readyReplicas") == 1
                    if not ready:
                        violations.append(name)

            spokes[-1].spoke.link._on_message = on_message

        for i, delay in enumerate((0.3, 0.8, 1.5)):
            cluster = SimulatedCluster(SimulationSettings(ready_delay=delay), name=f"d{i}")
            spokes.append(
                start_spoke(
                    hub=hub,
                    name=f"d{i}",
                    labels={},
                    token=token,
                    data_dir=tmp_path / f"d{i}",
                    cluster=cluster,
                )
            )
            watcher(f"d{i}", cluster)
        try:
            await eventually(lambda: all(s.spoke.link.connected.is_set() for s in spokes))
            await apply(
                hub,
                "b",
                {
                    "fleet.yaml": "dependsOn:\n- name: a\n",
                    "app.yaml": CM.format(name="app", v="1"),
                },
            )
            b = await bundle_status(hub.stub, "b")
            assert b is not None
            await eventually(lambda: _state_count(hub, "b", "Pending", 3), what="b Pending")
            await apply(hub, "a", {"db.yaml": DEPLOY.format(name="db", v="1")})

            async def both_ready() -> bool:
                sb, sa = await bundle_status(hub.stub, "b"), await bundle_status(hub.stub, "a")
                return bool(sa and sb and sa.clusters_ready == 3 and sb.clusters_ready == 3)

            await eventually(both_ready, timeout=20, what="a then b Ready everywhere")
            assert violations == []
        finally:
            await stop_all(spokes)


async def _state_count(hub: RunningHub, bundle: str, state: str, n: int) -> bool:
    b = await bundle_status(hub.stub, bundle)
    return b is not None and any(s.state == state and s.count == n for s in b.state_counts)


async def test_killed_spoke_goes_offline_and_stops_counting_ready(tmp_path: Path) -> None:
    grace = 1.0
    async with running_hub(tmp_path / "hub", offline_grace_seconds=grace) as hub:
        token = await token_of(hub)
        spokes = [
            start_spoke(hub=hub, name=f"o{i}", labels={}, token=token, data_dir=tmp_path / f"o{i}")
            for i in range(3)
        ]
        try:
            await eventually(lambda: all(s.spoke.link.connected.is_set() for s in spokes))
            await apply(hub, "web", {"app.yaml": CM.format(name="app", v="1")})

            async def ready(n: int) -> bool:
                b = await bundle_status(hub.stub, "web")
                return b is not None and b.clusters_ready == n

            await eventually(lambda: ready(3))
            await spokes[0].stop()
            killed = time.monotonic()

            async def offline() -> bool:
                st = await hub.stub.GetStatus(fleet_pb2.GetStatusRequest(), timeout=5)
                c = next(c for c in st.clusters if c.name == "o0")
                return c.state == "Offline" and c.offline

            await eventually(offline, timeout=grace + 5, what="o0 Offline")
            assert time.monotonic() - killed <= grace + 5
            assert await ready(2)
            b = await bundle_status(hub.stub, "web")
            assert b is not None and "Offline: 1 (o0)" in b.summary
            st = await hub.stub.GetStatus(
                fleet_pb2.GetStatusRequest(detail_bundles=["web"]), timeout=5
            )
            detail = next(d for d in st.bundles[0].deployments if d.cluster == "o0")
            assert detail.stale and detail.state == "Ready"  # last known, marked stale
        finally:
            await stop_all(spokes)


async def test_watch_sees_drift_within_a_second(tmp_path: Path) -> None:
    async with running_hub(tmp_path / "hub") as hub:
        token = await token_of(hub)
        spoke = start_spoke(hub=hub, name="w0", labels={}, token=token, data_dir=tmp_path / "w")
        try:
            await eventually(spoke.spoke.link.connected.is_set)
            await apply(hub, "web", {"app.yaml": CM.format(name="app", v="1")})
            await eventually(lambda: _state_count(hub, "web", "Ready", 1))
            stream = hub.stub.WatchStatus(fleet_pb2.WatchStatusRequest(bundle="web"))
            first = await stream.read()
            assert isinstance(first, fleet_pb2.WatchStatusResponse)
            assert first.snapshot and [b.name for b in first.bundles] == ["web"]
            assert first.clusters == []  # filtered to the bundle
            drifted = time.monotonic()
            spoke.cluster.inject_drift("/ConfigMap/default/app", {"data": {"v": "2"}})
            while True:
                msg = await asyncio.wait_for(stream.read(), 5)
                assert isinstance(msg, fleet_pb2.WatchStatusResponse)
                if any(b.state == "Modified" for b in msg.bundles):
                    break
            latency = time.monotonic() - drifted
            stream.cancel()
            assert latency < 1.0, f"drift took {latency:.3f}s to reach the watcher"
            b = await bundle_status(hub.stub, "web")
            assert b is not None
            assert b.summary == (
                'Modified: 1 (w0); w0: configmap default/app modified {"data":{"v":"2"}}'
            )
        finally:
            await spoke.stop()


COMPARE = """\
diff:
  comparePatches:
  - apiVersion: v1
    kind: ConfigMap
    name: app
    operations:
    - {op: remove, path: /data/tuned}
"""


async def test_compare_patches_hide_the_fields_they_name(tmp_path: Path) -> None:
    async with running_hub(tmp_path / "hub") as hub:
        token = await token_of(hub)
        spoke = start_spoke(hub=hub, name="c0", labels={}, token=token, data_dir=tmp_path / "c")
        try:
            await eventually(spoke.spoke.link.connected.is_set)
            cm = (
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {v: '1', tuned: a}\n"
            )
            await apply(hub, "web", {"fleet.yaml": COMPARE, "cm.yaml": cm})
            await eventually(lambda: _state_count(hub, "web", "Ready", 1))
            spoke.cluster.inject_drift("/ConfigMap/default/app", {"data": {"tuned": "b"}})
            await asyncio.sleep(0.5)  # give a wrong Modified every chance to show up
            assert await _state_count(hub, "web", "Ready", 1)
            spoke.cluster.inject_drift("/ConfigMap/default/app", {"data": {"v": "2"}})
            await eventually(lambda: _state_count(hub, "web", "Modified", 1))
        finally:
            await spoke.stop()


async def test_dropping_paused_from_fleet_yaml_releases_what_it_held(tmp_path: Path) -> None:
    """The rendered revision does not change with `paused`, yet the held deployment must go."""
    async with running_hub(tmp_path / "hub") as hub:
        token = await token_of(hub)
        spoke = start_spoke(hub=hub, name="c0", labels={}, token=token, data_dir=tmp_path / "c")
        try:
            await eventually(spoke.spoke.link.connected.is_set)
            cm = CM.format(name="app", v="1")
            await apply(hub, "web", {"fleet.yaml": "paused: true\n", "cm.yaml": cm})
            await eventually(lambda: _state_count(hub, "web", "OutOfSync", 1))

            async def paused() -> bool:
                b = await bundle_status(hub.stub, "web")
                return b is not None and b.rollout.state == "Paused"

            await eventually(paused, what="the gate ran and held it")
            assert "/ConfigMap/default/app" not in spoke.cluster.objects
            await apply(hub, "web", {"cm.yaml": cm})
            await eventually(lambda: _state_count(hub, "web", "Ready", 1))
            b = await bundle_status(hub.stub, "web")
            assert b is not None and not b.paused and list(b.rollout.partitions) == []
        finally:
            await spoke.stop()
