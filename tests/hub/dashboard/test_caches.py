"""The dashboard's caches at scale (issue #14): a bundle's deployment order and its
needs-attention rows are kept until the status book says they changed, and the banner's counts
are moved as rows change rather than counted again."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from argosy.api.v1 import fleet_pb2
from argosy.states import State
from hub.core.deployments import Deployment
from hub.core.events import EventLog
from hub.dashboard.model import Model
from hub.dashboard.server import Dashboard
from hub.dashboard.views import health
from hub.models import BundleRecord, ClusterRecord, HistoryEntry, ResourceStateRecord
from hub.status import ClusterInfo, StatusBook
from hub.watch import StatusBroadcaster
from tests.hub.fakes import MemoryStore


class Fleet:
    """Clusters and deployments of one bundle, `web`, with the reads counted."""

    def __init__(self, book: StatusBook, names: list[str]) -> None:
        self.events = EventLog(MemoryStore())
        self.book = book
        self.records: dict[str, ClusterRecord] = {}
        self.deployments: dict[str, Deployment] = {}
        self.reads = 0
        self.offline_ids: set[str] = set()
        book.add_bundle("web")
        for name in names:
            cid = f"id-{name}"
            self.records[cid] = ClusterRecord(cid, name, {"env": "dev"}, "", 0)
            book.put_cluster(cid, ClusterInfo(name, {"env": "dev"}))
            self.deployments[cid] = Deployment(bundle="web", cluster_id=cid, desired="r1")
            self.set_state(name, State.READY)

    def set_state(self, name: str, state: State) -> None:
        cid = f"id-{name}"
        dep = self.deployments[cid]
        dep.state = state
        dep.ready = state == State.READY
        dep.resources = (
            ()
            if dep.ready
            else (ResourceStateRecord(key="apps/Deployment/web/web", ready=False, message="0/1"),)
        )
        self.book.set_state("web", cid, state)

    def rename(self, old: str, new: str) -> None:
        cid = f"id-{old}"
        self.records[cid] = ClusterRecord(cid, new, {"env": "dev"}, "", 0)
        self.book.put_cluster(cid, ClusterInfo(new, {"env": "dev"}))

    def bundle(self, name: str) -> BundleRecord:
        return BundleRecord(name, {}, {}, "r1", 1, 0, 0)

    def clusters(self) -> list[ClusterRecord]:
        return list(self.records.values())

    def cluster_by_name(self, name: str) -> ClusterRecord | None:
        return next((r for r in self.records.values() if r.name == name), None)

    def deployment(self, cluster_id: str, bundle: str) -> Deployment | None:
        self.reads += 1
        return self.deployments.get(cluster_id) if bundle == "web" else None

    def offline(self, cluster_id: str) -> bool:
        return cluster_id in self.offline_ids

    def last_seen(self, cluster_id: str) -> int:
        return 0

    async def set_paused(self, name: str, paused: bool) -> None:
        raise AssertionError("not used")

    async def resume_rollout(self, name: str, *, actor: str = "") -> None:
        raise AssertionError("not used")

    def pinned(self, name: str) -> int:
        return 0

    async def history(self, name: str) -> tuple[list[HistoryEntry], int]:
        raise AssertionError("not used")

    async def rollback(self, name: str, *, to: int = 0, actor: str = "") -> tuple[object, int, int]:
        raise AssertionError("not used")

    async def unpin(self, name: str) -> bool:
        raise AssertionError("not used")


def _show(dashboard: Dashboard, fleet: Fleet) -> None:
    """What the broadcaster would send: the bundle's row, with its ready count."""
    ready = sum(d.state == State.READY for d in fleet.deployments.values())
    dashboard.model.apply(
        fleet_pb2.WatchStatusResponse(
            bundles=[
                fleet_pb2.BundleStatus(
                    name="web", clusters_ready=ready, clusters_desired=len(fleet.deployments)
                )
            ]
        )
    )


@asynccontextmanager
async def served(names: list[str]) -> AsyncIterator[tuple[Fleet, Dashboard, TestClient[Any, Any]]]:
    book = StatusBook()
    fleet = Fleet(book, names)
    dashboard = Dashboard(
        listen="127.0.0.1:0",
        fleet=fleet,
        book=book,
        broadcaster=StatusBroadcaster(book),
        role_of=None,
        ssl_context=None,
    )
    _show(dashboard, fleet)
    async with TestClient(TestServer(dashboard.app())) as client:
        yield fleet, dashboard, client


async def _names(client: TestClient[Any, Any], path: str, **params: str) -> list[str]:
    async with client.get(path, params=params) as resp:
        assert resp.status == 200, await resp.text()
        body = await resp.json()
    return [row["name"] if "name" in row else row["cluster"] for row in body["items"]]


async def test_a_bundles_cluster_order_is_kept_until_the_book_changes() -> None:
    async with served(["a", "b", "c", "d"]) as (fleet, dashboard, client):
        assert await _names(client, "/api/bundles/web/clusters") == ["a", "b", "c", "d"]
        # Cached: a page of two reads two deployments, not one per cluster.
        fleet.reads = 0
        assert await _names(client, "/api/bundles/web/clusters", limit="2") == ["a", "b"]
        assert fleet.reads == 2
        # A deployment's state moves in the book: the order follows (worst first).
        fleet.set_state("c", State.NOT_READY)
        _show(dashboard, fleet)
        assert await _names(client, "/api/bundles/web/clusters") == ["c", "a", "b", "d"]
        assert await _names(client, "/api/bundles/web/clusters", state="NotReady") == ["c"]
        # A cluster renamed (the roster, not the bundle, changed): the order follows too.
        fleet.rename("a", "z")
        assert await _names(client, "/api/bundles/web/clusters") == ["c", "b", "d", "z"]
        assert await _names(client, "/api/bundles/web/clusters", q="z") == ["z"]


async def test_needs_attention_follows_the_book() -> None:
    async with served(["a", "b", "c"]) as (fleet, dashboard, client):
        assert await _names(client, "/api/attention") == []
        fleet.set_state("b", State.NOT_READY)
        _show(dashboard, fleet)
        assert await _names(client, "/api/attention") == ["b"]
        assert await _names(client, "/api/attention") == ["b"]  # from the cache
        # A resource's message moves while the state does not (the book is not told): the
        # row shows it all the same.
        fleet.deployments["id-b"].resources = (
            ResourceStateRecord(key="apps/Deployment/web/web", ready=False, message="1/2"),
        )
        async with client.get("/api/attention") as resp:
            assert [r["message"] for r in (await resp.json())["items"]] == ["not ready: 1/2"]
        fleet.set_state("b", State.READY)
        fleet.set_state("c", State.NOT_READY)
        _show(dashboard, fleet)
        assert await _names(client, "/api/attention") == ["c"]


def test_the_banner_counts_kept_as_rows_change_equal_a_count_of_every_row() -> None:
    rng = random.Random(14)
    states = [s.value for s in State]
    model = Model()
    bundles = [f"b{i}" for i in range(5)]
    clusters = [f"c{i}" for i in range(40)]
    for step in range(400):
        msg = fleet_pb2.WatchStatusResponse(snapshot=step % 97 == 0)
        for name in rng.sample(bundles, rng.randint(0, 3)):
            counts = {s: rng.randint(0, 5) for s in rng.sample(states, rng.randint(0, 3))}
            msg.bundles.append(
                fleet_pb2.BundleStatus(
                    name=name,
                    state_counts=[
                        fleet_pb2.StateCount(state=s, count=n) for s, n in counts.items()
                    ],
                )
            )
        for name in rng.sample(clusters, rng.randint(0, 8)):
            msg.clusters.append(
                fleet_pb2.ClusterStatus(
                    name=name, state=rng.choice(states), connected=rng.random() < 0.7
                )
            )
        msg.removed_bundles.extend(
            b
            for b in rng.sample(bundles, rng.randint(0, 1))
            if b not in {x.name for x in msg.bundles}
        )
        msg.removed_clusters.extend(
            c
            for c in rng.sample(clusters, rng.randint(0, 2))
            if c not in {x.name for x in msg.clusters}
        )
        model.apply(msg)
        assert model.health() == health(model.bundles.values(), model.clusters.values()), step
