"""`argosy cluster list|delete|revoke`."""

from __future__ import annotations

import pytest

from argosy.api.v1 import fleet_pb2
from tests.cli.fakes import FakeHub, FakeStub, run


async def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    clusters = fleet_pb2.ListClustersResponse(
        clusters=[
            fleet_pb2.Cluster(
                name="one", id="c1", labels={"b": "2", "a": "1"}, connected=True, state="Ready"
            ),
            fleet_pb2.Cluster(name="two", id="c2"),
        ]
    )
    await run(FakeHub(FakeStub(ListClusters=clusters)), "cluster", "list")
    assert capsys.readouterr().out.splitlines() == [
        "NAME   ID   STATE   LABELS    CONNECTED",
        "one    c1   Ready   a=1,b=2   True",
        "two    c2   -       <none>    False",
    ]


@pytest.mark.parametrize(
    "verb,rpc,request_type",
    [
        ("delete", "DeleteCluster", fleet_pb2.DeleteClusterRequest),
        ("revoke", "RevokeCluster", fleet_pb2.RevokeClusterRequest),
    ],
)
async def test_delete_and_revoke_call_what_they_say(
    verb: str, rpc: str, request_type: type, capsys: pytest.CaptureFixture[str]
) -> None:
    hub = FakeHub()
    await run(hub, "cluster", verb, "one")
    assert hub.fake.calls == [(rpc, request_type(name="one"))]
    assert capsys.readouterr().out == f"cluster/one {verb}d\n"
