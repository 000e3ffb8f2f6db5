"""`argosy group create|list|delete`."""

from __future__ import annotations

import json

import pytest

from argosy.api.v1 import fleet_pb2
from argosy.convert import selector_from_pb
from argosy.errors import InvalidInput
from argosy.selectors import parse_selector
from tests.cli.fakes import FakeHub, FakeStub, run


async def test_create_sends_the_parsed_selector(capsys: pytest.CaptureFixture[str]) -> None:
    hub = FakeHub()
    await run(hub, "group", "create", "prod", "--selector", "env=prod,tier in (a,b)")
    ((rpc, request),) = hub.fake.calls
    assert rpc == "CreateGroup" and isinstance(request, fleet_pb2.CreateGroupRequest)
    assert request.group.name == "prod"
    assert selector_from_pb(request.group.selector) == parse_selector("env=prod,tier in (a,b)")
    assert capsys.readouterr().out == "group/prod configured\n"


async def test_a_bad_selector_calls_nothing() -> None:
    hub = FakeHub()
    with pytest.raises(InvalidInput):
        await run(hub, "group", "create", "prod", "--selector", "=prod")
    assert hub.fake.calls == []


async def test_list_shows_all_for_the_empty_selector(capsys: pytest.CaptureFixture[str]) -> None:
    groups = fleet_pb2.ListGroupsResponse(
        groups=[
            fleet_pb2.ClusterGroup(name="default"),
            fleet_pb2.ClusterGroup(
                name="prod", selector=fleet_pb2.LabelSelector(match_labels={"env": "prod"})
            ),
        ]
    )
    hub = FakeHub(FakeStub(ListGroups=groups))
    await run(hub, "group", "list")
    assert capsys.readouterr().out.splitlines() == [
        "NAME      SELECTOR",
        "default   (all)",
        "prod      env=prod",
    ]
    await run(hub, "group", "list", "-o", "json")
    assert json.loads(capsys.readouterr().out)[1] == {
        "name": "prod",
        "selector": {"matchLabels": {"env": "prod"}},
    }


async def test_delete(capsys: pytest.CaptureFixture[str]) -> None:
    hub = FakeHub()
    await run(hub, "group", "delete", "prod")
    assert hub.fake.calls == [("DeleteGroup", fleet_pb2.DeleteGroupRequest(name="prod"))]
    assert capsys.readouterr().out == "group/prod deleted\n"
