"""`argosy events`: the table, filters, JSON, and --watch."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message

from argosy.api.v1 import fleet_pb2
from argosy.runtime import STREAM_OPEN
from cli.client import UserError
from cli.commands import events
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


def ended(code: grpc.StatusCode, details: str, *, opened: bool = True) -> grpc.aio.AioRpcError:
    """A stream's end; `opened`: the hub had opened it (its initial metadata says so)."""
    sent = grpc.aio.Metadata(STREAM_OPEN) if opened else grpc.aio.Metadata()
    return grpc.aio.AioRpcError(code, sent, grpc.aio.Metadata(), details)


class Streams(FakeStub):
    """WatchEvents answered by one scripted stream per call: its events, then its error."""

    def __init__(self, *script: tuple[list[fleet_pb2.Event], grpc.aio.AioRpcError | None]) -> None:
        super().__init__()
        self.script = list(script)

    async def _stream(self, rpc: str, request: Message, answer: list[Any]) -> AsyncIterator[Any]:
        self.calls.append((rpc, request))
        events, error = self.script.pop(0)
        for e in events:
            yield fleet_pb2.WatchEventsResponse(event=e)
        if error is not None:
            raise error

    def __getattr__(self, rpc: str) -> Any:
        assert rpc == "WatchEvents"
        return lambda request, **_: self._stream(rpc, request, [])


LATER = fleet_pb2.Event(seq=9, time_unix_ms=1_764_700_002_000, kind="ClusterOnline", cluster="one")


async def test_watch_resumes_after_the_last_event_when_dropped_or_disconnected(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pauses: list[float] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(events, "pause", pause)
    stub = Streams(
        ([], ended(grpc.StatusCode.UNAVAILABLE, "hub stopping")),  # opened, quiet, then cut
        ([APPLIED], ended(grpc.StatusCode.RESOURCE_EXHAUSTED, "too slow")),
        # The backlog overlaps what was printed: seq 7 is not printed twice.
        ([APPLIED, OFFLINE], ended(grpc.StatusCode.UNAVAILABLE, "hub restarting")),
        # While the hub is down, reconnecting fails before a stream opens: tried again.
        ([], ended(grpc.StatusCode.UNAVAILABLE, "connection refused", opened=False)),
        ([LATER], None),
    )
    await run(FakeHub(stub), "events", "--watch", "--kind", "Cluster", "--since", "3", "-o", "json")
    printed = [json.loads(line)["seq"] for line in capsys.readouterr().out.splitlines()]
    assert printed == [7, 8, 9]
    assert [r for _, r in stub.calls] == [
        fleet_pb2.WatchEventsRequest(kind="Cluster", since_seq=3, limit=100),
        fleet_pb2.WatchEventsRequest(kind="Cluster", since_seq=3, limit=100),
        fleet_pb2.WatchEventsRequest(kind="Cluster", since_seq=7, limit=events.RESUME_LIMIT),
        fleet_pb2.WatchEventsRequest(kind="Cluster", since_seq=8, limit=events.RESUME_LIMIT),
        fleet_pb2.WatchEventsRequest(kind="Cluster", since_seq=8, limit=events.RESUME_LIMIT),
    ]
    assert len(pauses) == 4 and all(0 < p <= 10 for p in pauses)


async def test_watch_notes_each_resume_on_stderr(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def pause(seconds: float) -> None:
        pass

    monkeypatch.setattr(events, "pause", pause)
    stub = Streams(([APPLIED], ended(grpc.StatusCode.RESOURCE_EXHAUSTED, "too slow")), ([], None))
    await run(FakeHub(stub), "events", "--watch", "-o", "json")
    err = capsys.readouterr().err
    assert "event stream ended (RESOURCE_EXHAUSTED: too slow); resuming after seq 7 in" in err


async def test_watch_does_not_resume_what_a_new_watch_cannot_mend(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(events, "pause", None)  # never reached
    stub = Streams(([APPLIED], ended(grpc.StatusCode.PERMISSION_DENIED, "no")))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await run(FakeHub(stub), "events", "--watch", "-o", "json")
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert len(stub.calls) == 1


async def test_a_hub_never_reached_is_an_error_not_a_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "pause", None)  # never reached
    refused = ended(grpc.StatusCode.UNAVAILABLE, "connection refused", opened=False)
    stub = Streams(([], refused))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await run(FakeHub(stub), "events", "--watch")
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE and len(stub.calls) == 1
