"""End to end: a bundle whose chart lives in a chart repository on 127.0.0.1 is applied to a hub
with simulated clusters; the hub fetches the chart once for all of them (two renders, one per
label value, fifty clusters) with the credentials of its --chart-credentials file, keeps it in
its data dir, and every cluster becomes Ready."""

from __future__ import annotations

import json
from pathlib import Path

from argosy.api.v1 import fleet_pb2
from argosy.bundle.charts import Credentials
from tests.chartrepo import ChartRepo, serving
from tests.harness import (
    RunningHub,
    bundle_spec,
    bundle_status,
    eventually,
    running_hub,
    start_spoke,
)

SPOKES = 50


async def test_chart_from_repository_is_fetched_once_and_becomes_ready(tmp_path: Path) -> None:
    creds = tmp_path / "chart-credentials.yaml"
    async with serving() as repo:
        creds.write_text(f"'{repo.host}': {{username: hub, password: pw}}\n")
        repo.add_charts({"web": ["1.0.0", "1.2.0", "2.0.0"]})
        async with running_hub(tmp_path / "hub", chart_credentials=creds) as hub:
            await _apply_and_converge(hub, repo, tmp_path)


async def _apply_and_converge(hub: RunningHub, repo: ChartRepo, tmp_path: Path) -> None:
    token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
    spokes = [
        start_spoke(
            hub=hub,
            name=f"c{i}",
            labels={"env": "dev" if i % 2 else "prod"},
            token=token,
            data_dir=tmp_path / f"c{i}",
        )
        for i in range(SPOKES)
    ]
    try:
        for s in spokes:
            await eventually(s.spoke.link.connected.is_set)
        fleet = (
            f"helm:\n  repo: {repo.url}\n  chart: web\n  version: ^1.0\n"
            "  values:\n    color: ${ .ClusterLabels.env }\n"
        )
        await hub.stub.ApplyBundles(
            fleet_pb2.ApplyBundlesRequest(bundles=[bundle_spec("ext", {"fleet.yaml": fleet})]),
            timeout=60,
        )

        async def all_ready() -> bool:
            b = await bundle_status(hub.stub, "ext")
            return b is not None and (b.clusters_ready, b.clusters_desired) == (
                SPOKES,
                SPOKES,
            )

        await eventually(all_ready, timeout=60, what="every cluster Ready")
        assert repo.paths() == ["index.yaml", "charts/web-1.2.0.tgz"]
        assert all(auth == Credentials("hub", "pw").header() for _, auth in repo.requests)
        assert len(list((tmp_path / "hub" / "charts").glob("sha256-*.tgz"))) == 1
        for i, s in enumerate(spokes):
            (upsert,) = [u for u in s.upserts() if u.bundle == "ext"]
            (cm,) = [json.loads(r.manifest) for r in upsert.upserts]
            assert cm["data"] == {"chart": "web-1.2.0", "color": "dev" if i % 2 else "prod"}
    finally:
        for s in spokes:
            await s.stop()
