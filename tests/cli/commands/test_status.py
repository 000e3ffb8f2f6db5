"""`argosy status`: the overview, one bundle or cluster in detail, and --watch."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from google.protobuf.message import Message

from argosy.api.v1 import fleet_pb2
from tests.cli.fakes import FakeHub, FakeStub, run
from tests.hub.test_cluster_labels_and_pages import ctx, rig

STATUS = fleet_pb2.GetStatusResponse(
    clusters=[
        fleet_pb2.ClusterStatus(
            name="one", labels={"env": "dev"}, state="Ready", connected=True, bundles_ready=1
        )
    ],
    groups=[fleet_pb2.GroupStatus(name="default", cluster_count=1, state="Ready")],
    bundles=[
        fleet_pb2.BundleStatus(
            name="web",
            clusters_ready=1,
            clusters_desired=1,
            state="Ready",
            deployments=[fleet_pb2.DeploymentDetail(cluster="one", state="Ready")],
        )
    ],
)


async def test_overview_asks_for_no_detail_and_prints_the_three_tables(
    capsys: pytest.CaptureFixture[str],
) -> None:
    hub = FakeHub(FakeStub(GetStatus=STATUS))
    await run(hub, "status")
    assert hub.fake.calls == [("GetStatus", fleet_pb2.GetStatusRequest())]
    out = capsys.readouterr().out
    assert out.startswith("CLUSTER-GROUP") and "\nCLUSTER " in out and "\nBUNDLE " in out
    await run(hub, "status", "-o", "yaml")
    assert yaml.safe_load(capsys.readouterr().out)["bundles"][0]["name"] == "web"


async def test_one_bundle_in_detail_keeps_only_what_was_asked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    hub = FakeHub(FakeStub(GetStatus=STATUS))
    await run(hub, "status", "web", "-o", "json")
    assert hub.fake.calls == [("GetStatus", fleet_pb2.GetStatusRequest(detail_bundles=["web"]))]
    doc = json.loads(capsys.readouterr().out)
    # The cluster overview the hub sent along is not what was asked for; empty sections go.
    assert list(doc) == ["bundles"]
    assert doc["bundles"][0]["deployments"][0]["cluster"] == "one"
    await run(hub, "status", "web")
    out = capsys.readouterr().out
    assert out.startswith("BUNDLE ") and "Rollout: " in out and "\nCLUSTER " in out


async def test_one_cluster_in_detail(capsys: pytest.CaptureFixture[str]) -> None:
    hub = FakeHub(FakeStub(GetStatus=STATUS))
    await run(hub, "status", "--cluster", "one")
    assert hub.fake.calls == [("GetStatus", fleet_pb2.GetStatusRequest(detail_clusters=["one"]))]
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["CLUSTER", "LABELS", "BUNDLES-READY", "BUNDLES-DESIRED", "STATUS"]
    assert lines[1].split() == ["one", "env=dev", "1", "0", "Ready"]
    # Bundle web was sent along but not asked for: only the cluster's per-bundle rows follow.
    assert lines[3].split()[0] == "BUNDLE" and "Rollout:" not in lines


async def test_watch_prints_a_document_per_message_from_the_stream(
    capsys: pytest.CaptureFixture[str],
) -> None:
    stream = [
        fleet_pb2.WatchStatusResponse(snapshot=True, bundles=STATUS.bundles),
        fleet_pb2.WatchStatusResponse(removed_bundles=["web"]),
    ]
    hub = FakeHub(FakeStub(WatchStatus=stream))
    await run(hub, "status", "web", "--watch", "-o", "json")
    assert hub.fake.calls == [("WatchStatus", fleet_pb2.WatchStatusRequest(bundle="web"))]
    first, second = capsys.readouterr().out.split("\n---\n")[:2]
    assert [b["name"] for b in json.loads(first)["bundles"]] == ["web"]
    assert json.loads(second)["bundles"] == []


class ServicerStub(FakeStub):
    """GetStatus answered by a real FleetService (tests/hub's rig: no network), each response
    kept to check its size."""

    def __init__(self, admin: Any) -> None:
        super().__init__()
        self.admin = admin
        self.answers: list[fleet_pb2.GetStatusResponse] = []

    async def _unary(self, rpc: str, request: Message, answer: Any) -> Any:
        assert rpc == "GetStatus" and isinstance(request, fleet_pb2.GetStatusRequest)
        self.calls.append((rpc, request))
        self.answers.append(await self.admin.GetStatus(request, ctx()))
        return self.answers[-1]


async def test_a_bundle_on_1200_clusters_in_detail_is_read_over_bounded_pages(
    capsys: pytest.CaptureFixture[str],
) -> None:
    r = await rig()
    names = [f"c{i:04d}" for i in range(1200)]
    for name in names:
        await r.register(name, {})
    await r.apply("api")
    stub = ServicerStub(r.admin)
    await run(FakeHub(stub), "status", "api", "-o", "json")
    (api,) = json.loads(capsys.readouterr().out)["bundles"]
    assert [d["cluster"] for d in api["deployments"]] == names
    assert len(stub.answers) == 3
    assert all(sum(len(b.deployments) for b in a.bundles) <= 500 for a in stub.answers)

    await run(FakeHub(stub), "status", "--cluster", "c1100", "-o", "json")
    (cluster,) = json.loads(capsys.readouterr().out)["clusters"]
    assert [d["bundle"] for d in cluster["deployments"]] == ["api"]
    assert all(len(a.clusters) <= 500 for a in stub.answers)


async def test_watch_draws_a_snapshot_in_chunks_once_whole(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def cluster(n: str) -> fleet_pb2.ClusterStatus:
        return fleet_pb2.ClusterStatus(name=n, state="Ready")

    stream = [
        fleet_pb2.WatchStatusResponse(
            snapshot=True, snapshot_continues=True, clusters=[cluster("a"), cluster("b")]
        ),
        fleet_pb2.WatchStatusResponse(snapshot_continues=True, clusters=[cluster("c")]),
        fleet_pb2.WatchStatusResponse(clusters=[cluster("d")]),
        fleet_pb2.WatchStatusResponse(removed_clusters=["a"]),
    ]
    await run(FakeHub(FakeStub(WatchStatus=stream)), "status", "--watch", "-o", "json")
    docs = [json.loads(d) for d in capsys.readouterr().out.split("\n---\n") if d.strip()]
    # No partial picture: the first drawing has every cluster, the delta after it one less.
    assert [[c["name"] for c in d["clusters"]] for d in docs] == [
        ["a", "b", "c", "d"],
        ["b", "c", "d"],
    ]
