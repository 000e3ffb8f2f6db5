"""The hub's /metrics over HTTP, with spokes applying a bundle: the families and their values."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from argosy.api.v1 import fleet_pb2
from spoke.backends.simulated import SimulatedCluster, SimulationSettings
from tests.harness import (
    RunningHub,
    bundle_spec,
    bundle_status,
    eventually,
    running_hub,
    start_spoke,
)

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{v: '1'}}\n"


class Scrape:
    """One /metrics body, parsed by prometheus_client's own parser."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples: list[Sample] = [
            s for family in text_string_to_metric_families(text) for s in family.samples
        ]
        self.families = {f.name for f in text_string_to_metric_families(text)}

    def value(self, name: str, **labels: str) -> float:
        """The one sample of that name whose labels include these; fails if none."""
        found = [s for s in self.samples if s.name == name and _has(s.labels, labels)]
        assert len(found) == 1, f"{name}{labels}: {len(found)} samples"
        return found[0].value

    def series(self, name: str) -> list[Mapping[str, str]]:
        return [s.labels for s in self.samples if s.name == name]


def _has(labels: Mapping[str, str], want: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in want.items())


async def scrape(hub: RunningHub) -> Scrape:
    server = hub.hub.metrics_server
    assert server is not None
    await server.ready.wait()
    url = f"http://127.0.0.1:{server.port}/metrics"
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as resp,
    ):
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return Scrape(await resp.text())


async def test_metrics_show_states_deliveries_and_a_failing_deployment_until_fixed(
    tmp_path: Path,
) -> None:
    async with running_hub(tmp_path / "hub", metrics_listen="127.0.0.1:0") as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        bad = start_spoke(
            hub=hub,
            name="bad",
            labels={},
            token=token,
            data_dir=tmp_path / "bad",
            cluster=SimulatedCluster(SimulationSettings(fail_pattern="gadget"), name="bad"),
        )
        good = start_spoke(hub=hub, name="good", labels={}, token=token, data_dir=tmp_path / "g")
        try:
            for s in (bad, good):
                await eventually(s.spoke.link.connected.is_set)
            before = await scrape(hub)
            assert before.value("argosy_hub_clusters_connected") == 2
            assert before.value("argosy_hub_propagation_seconds_count") == 0

            async def apply(*specs: fleet_pb2.BundleSpec) -> None:
                await hub.stub.ApplyBundles(
                    fleet_pb2.ApplyBundlesRequest(bundles=list(specs)), timeout=30
                )

            await apply(
                bundle_spec("web", {"cm.yaml": CM.format(name="gadget")}),
                bundle_spec(
                    "held", {"fleet.yaml": "paused: true\n", "cm.yaml": CM.format(name="x")}
                ),
            )

            async def settled() -> bool:
                b = await bundle_status(hub.stub, "web")
                counts = {c.state: c.count for c in b.state_counts} if b else {}
                return counts == {"ErrApplied": 1, "Ready": 1}

            await eventually(settled, what="web: ErrApplied on bad, Ready on good")
            failing = await scrape(hub)
            status = await bundle_status(hub.stub, "web")
            assert status is not None
            for c in status.state_counts:
                assert (
                    failing.value("argosy_hub_bundle_deployments", bundle="web", state=c.state)
                    == c.count
                )
            assert (
                failing.value("argosy_hub_bundle_deployments", bundle="web", state="Offline") == 0
            )
            # Worst state first, then bundle and cluster: the order the cap keeps them in.
            assert failing.series("argosy_hub_deployment_not_ready") == [
                {"bundle": "web", "state": "ErrApplied", "cluster": "bad"},
                {"bundle": "held", "state": "OutOfSync", "cluster": "bad"},
                {"bundle": "held", "state": "OutOfSync", "cluster": "good"},
            ]
            assert failing.value("argosy_hub_deployments_not_ready") == 3
            assert (
                failing.value("argosy_hub_series_dropped", family="argosy_hub_deployment_not_ready")
                == 0
            )
            # The good cluster's ack of web: one release-to-ack observation; bad's is a failure.
            assert failing.value("argosy_hub_propagation_seconds_count") == 1
            assert failing.value("argosy_hub_acks_failed_total") >= 1
            assert failing.value("argosy_hub_sent_bytes_total", kind="full") > 0
            assert failing.value("argosy_hub_sent_messages_total", kind="full") == 2
            assert failing.value("argosy_hub_status_reports_total") > 0
            assert failing.value("argosy_hub_renders_total") == 2
            assert failing.value("argosy_hub_render_duration_seconds_count") >= 2
            # Both clusters have the same (no) labels: each bundle rendered once, used twice.
            assert failing.value("argosy_hub_render_cache_hits_total") == 2
            assert failing.value("argosy_hub_bundles") == 2
            assert failing.value("argosy_hub_clusters") == 2
            assert failing.value("argosy_hub_clusters_offline") == 0
            assert failing.series("argosy_hub_cluster_offline") == []
            assert failing.value("argosy_hub_heartbeat_age_max_seconds") >= 0
            assert "process_cpu_seconds" in failing.families

            async def held_paused() -> bool:
                rollout = await scrape(hub)
                return rollout.series("argosy_hub_rollout_state") != [] and (
                    rollout.value("argosy_hub_rollout_state", bundle="held", state="Paused") == 1
                )

            # The gate runs in its own loop, a moment after the apply.
            await eventually(held_paused, what="held shown Paused")
            rollout = await scrape(hub)
            assert rollout.value("argosy_hub_rollout_state", bundle="held", state="Complete") == 0
            assert [s["bundle"] for s in rollout.series("argosy_hub_rollout_state")] == ["held"] * 4

            # Fixed: the next revision applies on bad too, and bad leaves the non-Ready family.
            await apply(bundle_spec("web", {"cm.yaml": CM.format(name="widget")}))

            async def fixed() -> bool:
                b = await bundle_status(hub.stub, "web")
                return b is not None and b.clusters_ready == 2

            await eventually(fixed, what="web Ready on both clusters")
            after = await scrape(hub)
            assert after.value("argosy_hub_bundle_deployments", bundle="web", state="Ready") == 2
            assert (
                after.value("argosy_hub_bundle_deployments", bundle="web", state="ErrApplied") == 0
            )
            assert [
                s for s in after.series("argosy_hub_deployment_not_ready") if s["bundle"] == "web"
            ] == []
            # Both clusters acked the new revision (bad's first good ack counts from release).
            assert after.value("argosy_hub_propagation_seconds_count") == 3
            assert after.value("argosy_hub_sent_bytes_total", kind="diff") > 0
            assert after.value("argosy_hub_sent_messages_total", kind="diff") == 2
        finally:
            for s in (bad, good):
                await s.stop()


async def test_an_offline_cluster_is_named(tmp_path: Path) -> None:
    async with running_hub(
        tmp_path / "hub", metrics_listen="127.0.0.1:0", offline_grace_seconds=0.0
    ) as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        gone = start_spoke(hub=hub, name="gone", labels={}, token=token, data_dir=tmp_path / "s")
        await eventually(gone.spoke.link.connected.is_set)
        await gone.stop()

        async def offline() -> bool:
            return (await scrape(hub)).series("argosy_hub_cluster_offline") == [{"cluster": "gone"}]

        await eventually(offline, what="gone shown offline")
        last = await scrape(hub)
        assert last.value("argosy_hub_clusters_offline") == 1
        assert last.value("argosy_hub_clusters_connected") == 0


async def test_the_per_cluster_series_are_capped_and_the_rest_counted(tmp_path: Path) -> None:
    async with running_hub(
        tmp_path / "hub", metrics_listen="127.0.0.1:0", metrics_max_deployment_series=1
    ) as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        spokes = [
            start_spoke(hub=hub, name=n, labels={}, token=token, data_dir=tmp_path / n)
            for n in ("c1", "c2")
        ]
        try:
            for s in spokes:
                await eventually(s.spoke.link.connected.is_set)
            held = {"fleet.yaml": "paused: true\n", "cm.yaml": CM.format(name="x")}
            await hub.stub.ApplyBundles(
                fleet_pb2.ApplyBundlesRequest(bundles=[bundle_spec("held", held)]), timeout=30
            )

            async def both_held() -> bool:
                return (await scrape(hub)).value("argosy_hub_deployments_not_ready") == 2

            await eventually(both_held, what="held OutOfSync on both clusters")
            capped = await scrape(hub)
            assert capped.series("argosy_hub_deployment_not_ready") == [
                {"bundle": "held", "state": "OutOfSync", "cluster": "c1"}
            ]
            assert (
                capped.value("argosy_hub_series_dropped", family="argosy_hub_deployment_not_ready")
                == 1
            )
        finally:
            for s in spokes:
                await s.stop()


async def test_heartbeats_refresh_the_heartbeat_age(tmp_path: Path) -> None:
    async with running_hub(
        tmp_path / "hub", metrics_listen="127.0.0.1:0", heartbeat_seconds=1
    ) as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        spoke = start_spoke(hub=hub, name="c1", labels={}, token=token, data_dir=tmp_path / "c")
        try:
            await eventually(spoke.spoke.link.connected.is_set)
            assert hub.hub.fleet is not None
            heard = hub.hub.fleet.liveness.heard
            [(cluster_id, at_attach)] = heard.items()
            # Heard again at the next heartbeat, not only when the stream opened.
            await eventually(lambda: heard[cluster_id] > at_attach, what="a heartbeat heard")
            scraped = await scrape(hub)
            assert scraped.value("argosy_hub_heartbeat_age_max_seconds") > 0
        finally:
            await spoke.stop()
