"""The spoke's /metrics over HTTP: applies (their duration and errors), what it holds, its link."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from argosy.api.v1 import fleet_pb2
from spoke.app import parse_settings as parse_spoke_settings
from spoke.backends.simulated import SimulatedCluster, SimulationSettings
from tests.harness import RunningSpoke, bundle_spec, eventually, running_hub, start_spoke

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{v: '1'}}\n"


async def scrape(spoke: RunningSpoke) -> dict[str, float]:
    """Every sample without labels (the spoke has no others of its own), by name."""
    server = spoke.spoke.metrics_server
    assert server is not None
    await server.ready.wait()
    url = f"http://127.0.0.1:{server.port}/metrics"
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as resp,
    ):
        assert resp.status == 200
        text = await resp.text()
    return {
        s.name: s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if not s.labels
    }


async def test_spoke_metrics_count_applies_errors_and_what_it_holds(tmp_path: Path) -> None:
    async with running_hub(tmp_path / "hub") as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        spoke = start_spoke(
            hub=hub,
            name="c1",
            labels={},
            token=token,
            data_dir=tmp_path / "c1",
            cluster=SimulatedCluster(SimulationSettings(fail_pattern="gadget"), name="c1"),
            metrics_listen="127.0.0.1:0",
        )
        try:
            await eventually(spoke.spoke.link.connected.is_set)
            first = await scrape(spoke)
            assert first["argosy_spoke_hub_connected"] == 1
            assert first["argosy_spoke_apply_duration_seconds_count"] == 0
            assert first["argosy_spoke_resources_held"] == 0
            await hub.stub.ApplyBundles(
                fleet_pb2.ApplyBundlesRequest(
                    bundles=[
                        bundle_spec(
                            "web",
                            {
                                "a.yaml": CM.format(name="a"),
                                "b.yaml": CM.format(name="b"),
                                "gadget.yaml": CM.format(name="gadget"),
                            },
                        ),
                        bundle_spec("ok", {"c.yaml": CM.format(name="c")}),
                    ]
                ),
                timeout=30,
            )

            async def both_applied() -> bool:
                return (await scrape(spoke))["argosy_spoke_apply_duration_seconds_count"] >= 2

            await eventually(both_applied, what="two applies observed")
            after = await scrape(spoke)
            assert after["argosy_spoke_apply_errors_total"] >= 1  # web: gadget is refused
            assert after["argosy_spoke_bundles_held"] == 2
            # a, b and c, and gadget: it failed to apply, but it is desired and followed.
            assert after["argosy_spoke_resources_held"] == 4
            assert after["argosy_spoke_watch_restarts_total"] == 0
            assert after["process_cpu_seconds_total"] > 0
        finally:
            await spoke.stop()
        # Stopped, the spoke no longer listens.
        server = spoke.spoke.metrics_server
        assert server is not None and not server.ready.is_set()
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", server.port)


def test_spoke_refuses_public_metrics_without_the_opt_in(
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = ["--hub", "127.0.0.1:7443", "--name", "c1"]
    with pytest.raises(SystemExit):
        parse_spoke_settings([*base, "--metrics-listen", "0.0.0.0:9101"])
    assert "not a loopback address" in capsys.readouterr().err
    s = parse_spoke_settings([*base, "--metrics-listen", "0.0.0.0:9101", "--metrics-public"])
    assert s.metrics_listen == "0.0.0.0:9101"
