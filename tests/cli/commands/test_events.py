"""`argosy events`: the table, filters, JSON, and --watch."""

from __future__ import annotations

import json

import pytest

from argosy.api.v1 import fleet_pb2
from cli.client import UserError
from tests.cli.fakes import FakeHub, FakeStub, run

APPLIED = fleet_pb2.Event(
    seq=7,
    time_unix_ms=1_764_700_000_123,
    kind="BundleApplied",
    bundle="web",
    revision="0123456789abcdef0123",
    actor="token/a-1",
    message="3 resources",
)
OFFLINE = fleet_pb2.Event(
    seq=8, time_unix_ms=1_764_700_001_000, kind="ClusterOffline", cluster="one", message="down"
)


async def test_list_prints_a_table_with_the_filters_sent(
    capsys: pytest.CaptureFixture[str],
) -> None:
    hub = FakeHub(FakeStub(ListEvents=fleet_pb2.ListEventsResponse(events=[APPLIED, OFFLINE])))
    await run(hub, "events", "--bundle", "web", "--kind", "BundleApplied", "--limit", "5")
    assert hub.fake.calls == [
        ("ListEvents", fleet_pb2.ListEventsRequest(bundle="web", kind="BundleApplied", limit=5))
    ]
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["TIME", "KIND", "BUNDLE", "CLUSTER", "REVISION", "ACTOR", "MESSAGE"]
    assert lines[1].split() == [
        "2025-12-02",
        "18:26:40",
        "BundleApplied",
        "web",
        "-",
        "0123456789ab",
        "token/a-1",
        "3",
        "resources",
    ]
    assert lines[2].split()[2:5] == ["ClusterOffline", "-", "one"]


async def test_json_keeps_every_field(capsys: pytest.CaptureFixture[str]) -> None:
    hub = FakeHub(FakeStub(ListEvents=fleet_pb2.ListEventsResponse(events=[APPLIED])))
    await run(hub, "events", "--cluster", "one", "--since", "3", "-o", "json")
    assert hub.fake.calls[0][1] == fleet_pb2.ListEventsRequest(
        cluster="one", since_seq=3, limit=100
    )
    assert json.loads(capsys.readouterr().out) == [
        {
            "seq": 7,
            "time": "2025-12-02T18:26:40.123Z",
            "kind": "BundleApplied",
            "bundle": "web",
            "cluster": "",
            "revision": "0123456789abcdef0123",
            "actor": "token/a-1",
            "message": "3 resources",
        }
    ]


async def test_watch_prints_each_event_as_it_comes(capsys: pytest.CaptureFixture[str]) -> None:
    stream = [fleet_pb2.WatchEventsResponse(event=e) for e in (APPLIED, OFFLINE)]
    hub = FakeHub(FakeStub(WatchEvents=stream))
    await run(hub, "events", "--watch", "--bundle", "web")
    assert hub.fake.calls == [
        ("WatchEvents", fleet_pb2.WatchEventsRequest(bundle="web", limit=100))
    ]
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("TIME ") and len(lines) == 3
    assert "BundleApplied" in lines[1] and "ClusterOffline" in lines[2]
    await run(hub, "events", "-w", "-o", "json")
    docs = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [d["seq"] for d in docs] == [7, 8]  # JSON Lines: one document per event


async def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(UserError, match="--limit: 0"):
        await run(FakeHub(), "events", "--limit", "0")
