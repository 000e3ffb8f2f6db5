"""Every committed write is announced, once, after it is committed (in-memory fakes)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from argosy.selectors import LabelSelector
from hub.models import BundleControl, BundleRecord, ClusterRecord, DeploymentRecord, GroupRecord
from hub.persistence.protocol import Store
from hub.replication.publishing import PublishingStore


class Recorder:
    def __init__(self, log: list[Any]) -> None:
        self.log = log

    def publish(
        self, kind: str, name: str = "", *, ids: Sequence[str] = (), revision: str = ""
    ) -> None:
        self.log.append(("publish", kind, name, tuple(ids)))


class FakeStore:
    """Answers any write by recording it; `fail` makes writes raise, as a failed commit."""

    def __init__(self, log: list[Any]) -> None:
        self.log = log
        self.fail = False

    def __getattr__(self, name: str) -> Any:
        async def call(*args: Any, **kwargs: Any) -> Any:
            if self.fail:
                raise ConnectionError("commit failed")
            self.log.append(("store", name))
            return f"{name} result"

        return call


def publishing(log: list[Any]) -> tuple[PublishingStore, FakeStore]:
    fake = FakeStore(log)
    store: Store = fake
    return PublishingStore(store, Recorder(log)), fake


def bundle(name: str) -> BundleRecord:
    return BundleRecord(name, {}, {}, "r1", 0, 0, 0)


def deployment(bundle: str, cluster: str) -> DeploymentRecord:
    return DeploymentRecord(bundle, cluster, "r1", "", "", "", False, (), "")


async def test_each_write_is_announced_after_it_is_stored() -> None:
    log: list[Any] = []
    store, _ = publishing(log)
    no_sets: Mapping[str, bytes] = {}
    await store.put_bundles([bundle("web"), bundle("api"), bundle("web")], no_sets)
    await store.delete_bundle("old")
    await store.put_cluster(ClusterRecord("c-1", "one", {}, "", 0, 0))
    await store.delete_cluster("c-2")
    await store.put_group(GroupRecord("prod", LabelSelector({})))
    await store.delete_group("dev")
    await store.put_bundle_control(BundleControl("web", True, ""))
    await store.save_deployments([deployment("web", "c-1")], [("api", "c-1")])
    assert log == [
        ("store", "put_bundles"),
        ("publish", "bundle", "web", ()),  # a name given twice is announced once
        ("publish", "bundle", "api", ()),
        ("store", "delete_bundle"),
        ("publish", "bundle", "old", ()),
        ("store", "put_cluster"),
        ("publish", "cluster", "c-1", ()),
        ("store", "delete_cluster"),
        ("publish", "cluster", "c-2", ()),
        ("store", "put_group"),
        ("publish", "group", "prod", ()),
        ("store", "delete_group"),
        ("publish", "group", "dev", ()),
        ("store", "put_bundle_control"),
        ("publish", "control", "web", ()),
        ("store", "save_deployments"),
        ("publish", "deployments", "", ("web/c-1",)),
    ]


async def test_deletions_alone_and_reads_announce_nothing() -> None:
    log: list[Any] = []
    store, _ = publishing(log)
    await store.save_deployments([], [("web", "c-1")])
    assert await store.load_bundle("web") == "load_bundle result"
    await store.touch_clusters({"c-1": 5})
    assert [e for e in log if e[0] == "publish"] == []


async def test_a_failed_write_is_not_announced() -> None:
    log: list[Any] = []
    store, fake = publishing(log)
    fake.fail = True
    with pytest.raises(ConnectionError):
        await store.put_cluster(ClusterRecord("c-1", "one", {}, "", 0, 0))
    assert log == []
