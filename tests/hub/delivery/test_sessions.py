"""A spoke's session against a fake fleet and a fake stream: what it sends, when, and what it
reports back. No sockets: the stream is a list of written messages."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping

import pytest

from argosy.api.v1 import spoke_pb2
from argosy.manifests import Manifest, ResourceSet
from argosy.options import ApplyOptions
from hub.core.deployments import Deployment, StatusUpdate
from hub.delivery.payloads import PayloadCache, RevisionMissing
from hub.delivery.sessions import SessionClosed, SpokeSession
from hub.models import ClusterRecord
from hub.rendered import Rendered


def rendered(*names: str) -> Rendered:
    manifests = [
        Manifest.of({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": n}})
        for n in names
    ]
    return Rendered.of(ResourceSet.of(manifests), ApplyOptions())


class FakeFleet:
    """The Desk a session uses, and the revisions the payload cache reads."""

    def __init__(self) -> None:
        self.deployments: dict[str, Deployment] = {}
        self.revisions: dict[str, Rendered] = {}
        self.sent: list[tuple[str, str]] = []
        self.acks: list[tuple[str, str, str]] = []
        self.reports: list[StatusUpdate] = []
        self.heartbeats = 0

    def want(self, bundle: str, r: Rendered, *, released: bool = True) -> None:
        self.revisions[r.revision] = r
        self.deployments[bundle] = Deployment(
            bundle, "c1", r.revision, released=r.revision if released else ""
        )

    def desired(self, cluster_id: str) -> Mapping[str, Deployment]:
        return self.deployments

    async def rendered(self, revision: str) -> Rendered | None:
        return self.revisions.get(revision)

    def on_sent(self, cluster_id: str, bundle: str, revision: str) -> None:
        self.sent.append((bundle, revision))

    def on_ack(self, cluster_id: str, *, bundle: str, revision: str, error: str) -> None:
        self.acks.append((bundle, revision, error))

    def on_status(self, cluster_id: str, updates: Iterable[StatusUpdate]) -> None:
        self.reports.extend(updates)

    def on_heartbeat(self, cluster_id: str) -> None:
        self.heartbeats += 1


class Stream:
    """What the session wrote, parsed; `written` is set after every write."""

    def __init__(self) -> None:
        self.messages: list[spoke_pb2.ConnectResponse] = []
        self.written = asyncio.Event()

    async def write(self, data: bytes) -> None:
        self.messages.append(spoke_pb2.ConnectResponse.FromString(data))
        self.written.set()

    async def next(self) -> spoke_pb2.ConnectResponse:
        count = len(self.messages)
        while len(self.messages) == count:
            self.written.clear()
            await asyncio.wait_for(self.written.wait(), 5)
        return self.messages[count]


def session(
    fleet: FakeFleet, stream: Stream, held: dict[str, str] | None = None
) -> tuple[SpokeSession, PayloadCache]:
    payloads = PayloadCache(fleet)
    cluster = ClusterRecord("c1", "one", {}, "", 0)
    s = SpokeSession(
        fleet=fleet, payloads=payloads, cluster=cluster, write=stream.write, held=held or {}
    )
    return s, payloads


async def test_a_session_sends_what_the_spoke_lacks_then_a_diff_then_a_delete() -> None:
    fleet, stream = FakeFleet(), Stream()
    v1 = rendered("a", "b")
    fleet.want("web", v1)
    s, payloads = session(fleet, stream)
    task = asyncio.create_task(s.run(), name="session")
    try:
        first = await stream.next()
        assert first.upsert.bundle == "web"
        assert first.upsert.revision == v1.revision
        assert first.upsert.base_revision == ""
        assert len(first.upsert.upserts) == 2
        assert fleet.sent == [("web", v1.revision)]

        v2 = rendered("a", "c")
        fleet.want("web", v2)
        s.notify(["web"])
        second = await stream.next()
        assert second.upsert.base_revision == v1.revision
        assert [r.key for r in second.upsert.upserts] == ["/ConfigMap//c"]
        assert list(second.upsert.removed) == ["/ConfigMap//b"]

        del fleet.deployments["web"]
        s.notify(["web"])
        third = await stream.next()
        assert third.delete.bundle == "web"
        assert (payloads.counters.full, payloads.counters.diff) == (1, 1)
        assert payloads.counters.deletes == 1
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_held_back_revision_is_not_sent_and_a_retry_resends_nothing_but_the_ask() -> None:
    fleet, stream = FakeFleet(), Stream()
    v1 = rendered("a")
    fleet.want("web", v1)
    held = {"web": v1.revision}
    fleet.want("web", rendered("b"), released=False)
    fleet.deployments["web"].released = v1.revision  # the rollout holds the new one back
    s, payloads = session(fleet, stream, held)
    task = asyncio.create_task(s.run(), name="session")
    try:
        s.retry(["web"])
        msg = await stream.next()
        assert msg.WhichOneof("msg") == "retry"
        assert msg.retry.bundle == "web"
        assert fleet.sent == []
        assert payloads.counters.retries == 1
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_closed_session_ends_with_the_reason() -> None:
    fleet, stream = FakeFleet(), Stream()
    s, _ = session(fleet, stream)
    s.close("replaced by a newer stream from the same cluster")
    with pytest.raises(SessionClosed, match="replaced"):
        await s.run()


async def test_a_spoke_that_does_not_read_is_cut_off() -> None:
    fleet = FakeFleet()
    fleet.want("web", rendered("a"))
    never = asyncio.Event()

    async def stuck_write(data: bytes) -> None:
        await never.wait()

    s = SpokeSession(
        fleet=fleet,
        payloads=PayloadCache(fleet),
        cluster=ClusterRecord("c1", "one", {}, "", 0),
        write=stuck_write,
        held={},
        send_deadline=0.01,
    )
    with pytest.raises(SessionClosed, match="did not read"):
        await s.run()
    assert s.stuck


def test_messages_from_the_spoke_reach_the_fleet_without_awaiting() -> None:
    fleet, stream = FakeFleet(), Stream()
    s, _ = session(fleet, stream, {"web": "r1"})
    s.handle(spoke_pb2.ConnectRequest(ack=spoke_pb2.Ack(bundle="web", revision="r1")))
    report = spoke_pb2.DeploymentStatus(bundle="web", revision="r1", ready=True)
    s.handle(spoke_pb2.ConnectRequest(status=spoke_pb2.StatusReport(deployments=[report])))
    s.handle(spoke_pb2.ConnectRequest(heartbeat=spoke_pb2.Heartbeat()))
    assert fleet.acks == [("web", "r1", "")]
    assert fleet.reports == [StatusUpdate("web", "r1", True, "")]
    assert fleet.heartbeats == 1


def test_a_resync_ack_forgets_what_the_spoke_holds_and_sends_again() -> None:
    fleet, stream = FakeFleet(), Stream()
    held = {"web": "r1"}
    s, _ = session(fleet, stream, held)
    s.handle(spoke_pb2.ConnectRequest(ack=spoke_pb2.Ack(bundle="web", resync=True)))
    assert held == {}
    assert fleet.acks == []


async def test_a_missing_revision_is_skipped_but_a_bug_is_not_swallowed() -> None:
    fleet, stream = FakeFleet(), Stream()
    gone, v1 = rendered("a"), rendered("b")
    fleet.want("gone", gone)
    del fleet.revisions[gone.revision]
    payloads = PayloadCache(fleet)
    with pytest.raises(RevisionMissing):
        await payloads.upsert("gone", "", gone.revision)

    # A KeyError (a bug in diffing or encoding, say) ends the session instead of being logged.
    class Broken(FakeFleet):
        async def rendered(self, revision: str) -> Rendered | None:
            raise KeyError(revision)

    broken = Broken()
    broken.want("web", v1)
    s, _ = session(broken, stream)
    with pytest.raises(KeyError):
        await asyncio.wait_for(s.run(), 5)
