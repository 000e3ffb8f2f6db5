"""Announcing each committed write: the store wrapper every replica writes through."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from hub.models import (
    BundleControl,
    BundleRecord,
    ClusterRecord,
    DeploymentRecord,
    GroupRecord,
    HistoryEntry,
)
from hub.persistence.protocol import Store


class Publisher(Protocol):
    """Where announcements go (hub.replication.feed.Replication)."""

    def publish(
        self, kind: str, name: str = "", *, ids: Sequence[str] = (), revision: str = ""
    ) -> None: ...


class PublishingStore:
    """A store that tells the other replicas about each committed change it writes.

    Wrapping the store, rather than calling `publish` at each admin call site, means every
    change that reaches the database is announced, including ones added later, and only once
    it is committed. Reads and anything not listed here pass straight through.
    """

    def __init__(self, store: Store, replication: Publisher) -> None:
        self._store = store
        self._replication = replication

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def put_bundles(
        self,
        bundles: Sequence[BundleRecord],
        resource_sets: Mapping[str, bytes],
        *,
        history: Sequence[HistoryEntry] = (),
        history_limit: int = 0,
    ) -> dict[str, int]:
        # History needs no word of its own: replicas read it from the store when asked.
        revs = await self._store.put_bundles(
            bundles, resource_sets, history=history, history_limit=history_limit
        )
        for b in dict.fromkeys(b.name for b in bundles):
            self._replication.publish("bundle", b)
        return revs

    async def delete_bundle(self, name: str) -> None:
        await self._store.delete_bundle(name)
        self._replication.publish("bundle", name)

    async def put_cluster(self, cluster: ClusterRecord) -> None:
        await self._store.put_cluster(cluster)
        self._replication.publish("cluster", cluster.id)

    async def delete_cluster(self, cluster_id: str) -> None:
        await self._store.delete_cluster(cluster_id)
        self._replication.publish("cluster", cluster_id)

    async def put_group(self, group: GroupRecord) -> None:
        await self._store.put_group(group)
        self._replication.publish("group", group.name)

    async def delete_group(self, name: str) -> None:
        await self._store.delete_group(name)
        self._replication.publish("group", name)

    async def put_bundle_control(self, control: BundleControl) -> None:
        await self._store.put_bundle_control(control)
        self._replication.publish("control", control.name)

    async def save_deployments(
        self, upserts: Sequence[DeploymentRecord], deletes: Sequence[tuple[str, str]]
    ) -> None:
        await self._store.save_deployments(upserts, deletes)
        # Deleted rows need no word: the replicas delete them themselves, from the same change.
        if upserts:
            self._replication.publish(
                "deployments", ids=[f"{d.bundle}/{d.cluster_id}" for d in upserts]
            )
