"""`argosy target DIR`: the hub's clusters and groups, matched locally."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from argosy.api.v1 import fleet_pb2
from argosy.convert import selector_to_pb
from argosy.selectors import parse_selector
from tests.cli.commands.test_render import bundle
from tests.cli.fakes import FakeHub, FakeStub, run


async def test_target_uses_the_hubs_groups_and_names_customizations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = bundle(tmp_path / "app")
    clusters = fleet_pb2.ListClustersResponse(
        clusters=[
            fleet_pb2.Cluster(name="p1", labels={"env": "prod", "size": "big"}),
            fleet_pb2.Cluster(name="p2", labels={"env": "prod"}),
            fleet_pb2.Cluster(name="d1", labels={"env": "dev"}),
        ]
    )
    groups = fleet_pb2.ListGroupsResponse(
        groups=[
            fleet_pb2.ClusterGroup(name="prod", selector=selector_to_pb(parse_selector("env=prod")))
        ]
    )
    hub = FakeHub(FakeStub(ListClusters=clusters, ListGroups=groups))
    await run(hub, "target", str(app), "-o", "json")
    assert json.loads(capsys.readouterr().out) == [
        {"bundle": "app", "cluster": "p1", "customizations": ["big"]},
        {"bundle": "app", "cluster": "p2", "customizations": []},
    ]
    await run(hub, "target", str(app))
    assert capsys.readouterr().out.splitlines() == [
        "BUNDLE   CLUSTER   CUSTOMIZATION",
        "app      p1        big",
        "app      p2        -",
    ]
