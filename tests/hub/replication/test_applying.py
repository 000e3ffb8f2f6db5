"""What a replica does with each change kind, on an in-memory fake fleet (no PostgreSQL)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import pytest

from hub.replication.applying import ReplicaFleet, apply_change
from hub.replication.feed import Replication
from hub.replication.messages import Change, encode


class FakeFleet:
    """Records every call the feed makes, in order."""

    def __init__(self, attached: Sequence[str] = ()) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.attached = list(attached)
        self.fail_with: Exception | None = None

    async def reload_bundle(self, name: str) -> None:
        self._call("reload_bundle", name)

    async def reload_cluster(self, cluster_id: str) -> None:
        self._call("reload_cluster", cluster_id)

    async def reload_group(self, name: str) -> None:
        self._call("reload_group", name)

    async def reload_control(self, name: str) -> None:
        self._call("reload_control", name)

    async def import_deployments(self, keys: Sequence[tuple[str, str]]) -> None:
        self._call("import_deployments", list(keys))

    def remote_released(self, bundle: str, released: Iterable[tuple[str, str]]) -> None:
        self._call("remote_released", bundle, list(released))

    def remote_retry(self, bundle: str, cluster_ids: Iterable[str]) -> None:
        self._call("remote_retry", bundle, list(cluster_ids))

    def remote_attached(self, origin: str, cluster_ids: Iterable[str], *, attached: bool) -> None:
        self._call("remote_attached", origin, list(cluster_ids), attached)

    def peer_gone(self, origin: str) -> None:
        self._call("peer_gone", origin)

    def attached_here(self) -> list[str]:
        return list(self.attached)

    async def resync(self) -> None:
        self._call("resync")

    def _call(self, *call: Any) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.calls.append(call)


def test_the_fake_is_a_replica_fleet() -> None:
    fleet: ReplicaFleet = FakeFleet()  # mypy holds the fake to the Protocol
    assert fleet.attached_here() == []


@pytest.mark.parametrize(
    ("change", "call"),
    [
        (Change("b", "bundle", "web"), ("reload_bundle", "web")),
        (Change("b", "cluster", "c-1"), ("reload_cluster", "c-1")),
        (Change("b", "group", "prod"), ("reload_group", "prod")),
        (Change("b", "control", "web"), ("reload_control", "web")),
        (
            Change("b", "deployments", ids=("web/c-1", "api/c-2")),
            ("import_deployments", [("web", "c-1"), ("api", "c-2")]),
        ),
        (
            Change("b", "released", "web", ids=("c-1/r1", "c-2/r1")),
            ("remote_released", "web", [("c-1", "r1"), ("c-2", "r1")]),
        ),
        (Change("b", "retry", "web", ids=("c-1",)), ("remote_retry", "web", ["c-1"])),
        (Change("b", "attach", ids=("c-1",)), ("remote_attached", "b", ["c-1"], True)),
        (Change("b", "detach", ids=("c-1",)), ("remote_attached", "b", ["c-1"], False)),
    ],
)
async def test_each_change_kind_reaches_the_fleet(change: Change, call: tuple[Any, ...]) -> None:
    fleet = FakeFleet()
    await apply_change(fleet, change)
    assert fleet.calls == [call]


async def test_alive_and_unknown_kinds_change_nothing(caplog: pytest.LogCaptureFixture) -> None:
    fleet = FakeFleet()
    await apply_change(fleet, Change("b", "alive"))
    assert not caplog.records
    await apply_change(fleet, Change("b", "teleport", "web"))
    assert fleet.calls == []
    assert "unknown change kind 'teleport'" in caplog.text


def deliver(replication: Replication, payloads: Iterable[str]) -> None:
    """As asyncpg's listener callback would: no connection needed."""
    for p in payloads:
        replication._on_notify(None, 0, "argosy_changes", p)


async def drain(replication: Replication, fleet: FakeFleet) -> None:
    while replication._in:
        await replication.apply_next(fleet)


async def test_a_replica_ignores_its_own_changes() -> None:
    replication, fleet = Replication("postgresql://unused"), FakeFleet()
    deliver(replication, encode(replication.origin, "bundle", "web", "", ()))
    await drain(replication, fleet)
    assert fleet.calls == []


async def test_unreadable_notifications_are_dropped(caplog: pytest.LogCaptureFixture) -> None:
    replication, fleet = Replication("postgresql://unused"), FakeFleet()
    deliver(replication, ["{not json", "[]"])
    await drain(replication, fleet)
    assert fleet.calls == []
    assert caplog.text.count("unreadable change notification") == 2


async def test_a_new_peer_is_told_which_streams_this_replica_holds() -> None:
    replication, fleet = Replication("postgresql://unused"), FakeFleet(attached=["c-1", "c-2"])
    deliver(replication, encode("b", "alive", "", "", ()))
    deliver(replication, encode("b", "alive", "", "", ()))
    await drain(replication, fleet)
    # Once, for the newcomer; its second message is from a known peer.
    assert replication._out == [("attach", "", "", ("c-1", "c-2"))]


async def test_split_deployment_changes_are_re_read_in_one_go() -> None:
    replication, fleet = Replication("postgresql://unused"), FakeFleet()
    ids = [f"web/c-{i:06d}" for i in range(2000)]
    payloads = encode("b", "deployments", "", "", ids)
    assert len(payloads) > 1
    deliver(replication, [*payloads, *encode("b", "bundle", "web", "", ())])
    await drain(replication, fleet)
    assert fleet.calls == [
        ("import_deployments", [tuple(i.split("/")) for i in ids]),
        ("reload_bundle", "web"),
    ]


async def test_a_change_that_fails_on_the_store_does_not_stop_the_feed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    replication, fleet = Replication("postgresql://unused"), FakeFleet()
    fleet.fail_with = TimeoutError("store slow")
    deliver(replication, encode("b", "bundle", "web", "", ()))
    await drain(replication, fleet)
    assert "could not apply a change from replica b: store slow" in caplog.text
    fleet.fail_with = None
    deliver(replication, encode("b", "bundle", "api", "", ()))
    await drain(replication, fleet)
    assert fleet.calls == [("reload_bundle", "api")]


async def test_a_bug_in_applying_is_not_swallowed() -> None:
    replication, fleet = Replication("postgresql://unused"), FakeFleet()
    fleet.fail_with = KeyError("bug")
    deliver(replication, encode("b", "bundle", "web", "", ()))
    with pytest.raises(KeyError):
        await drain(replication, fleet)


async def test_a_peer_is_alive_as_of_its_messages_arriving_not_being_applied() -> None:
    # Behind a long inbox (a connect storm) its "alive" is applied late; it must not be taken
    # for dead meanwhile (that took its N streams down and attached them again, over and over).
    replication, fleet = Replication("postgresql://unused", peer_timeout=5.0), FakeFleet()
    deliver(replication, encode("b", "alive", "", "", ()))
    await drain(replication, fleet)
    replication._peers.heard("b", time.monotonic() - 100.0)  # last applied long ago
    deliver(replication, encode("b", "cluster", "c-1", "", ()))  # arrived, not applied yet
    assert replication._peers.expire(time.monotonic()) == []
    await drain(replication, fleet)
    assert fleet.calls == [("reload_cluster", "c-1")]
    assert replication._out == []  # not greeted as a newcomer again
