"""Deployment rows and last-seen times, written behind in one transaction per batch.

Spoke acks and reports change deployments without awaiting (they are frequent); what changed is
only marked here, and `run` writes it a moment later, coalesced.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from hub.core.deployments import Deployment, Deployments
from hub.models import DeploymentRecord
from hub.persistence.protocol import Store


class WriteBehind:
    def __init__(
        self,
        store: Store,
        deployments: Deployments,
        *,
        writes_rows: Callable[[str, set[str]], bool] = lambda cluster_id, detached: True,
    ) -> None:
        self._store = store
        self._deployments = deployments
        # Whether this hub writes a cluster's rows (replicas write only their own spokes').
        self._writes_rows = writes_rows
        self._dirty: set[tuple[str, str]] = set()
        self._deleted: set[tuple[str, str]] = set()
        self._seen: dict[str, int] = {}
        # Kept after the batch is written: the dashboard shows each cluster's heartbeat age.
        self.last_seen: dict[str, int] = {}
        self._detached: set[str] = set()
        self._wake = asyncio.Event()
        deployments.persist = self.mark

    def mark(self, dep: Deployment) -> None:
        self._dirty.add((dep.bundle, dep.cluster_id))
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def deleted(self, bundle: str, cluster_id: str) -> None:
        self._deleted.add((bundle, cluster_id))

    def undeleted(self, bundle: str, cluster_id: str) -> None:
        self._deleted.discard((bundle, cluster_id))

    def seen(self, cluster_id: str) -> None:
        self._seen[cluster_id] = self.last_seen[cluster_id] = int(time.time())

    def detached(self, cluster_id: str) -> None:
        """The cluster's stream ended here: this batch still writes its rows."""
        self._detached.add(cluster_id)

    def forget_cluster(self, cluster_id: str, bundles: list[str]) -> None:
        """A deleted cluster: the store dropped its rows already."""
        self.last_seen.pop(cluster_id, None)
        for bundle in bundles:
            self._dirty.discard((bundle, cluster_id))

    async def run(self, *, interval: float = 0.25) -> None:
        """Write spoke-reported state behind, in one transaction per batch."""
        while True:
            await self._wake.wait()
            await asyncio.sleep(interval)
            await self.flush()

    async def flush(self, *, rows_per_slice: int = 500) -> None:
        """Write what changed since the last flush, in slices of `rows_per_slice` rows, one
        transaction each, yielding to the event loop between slices.

        A reconnect storm marks every deployment and cluster of the fleet within seconds; one
        batch of 10,000 rows held the loop (building records) and then the GIL (the store's
        thread encoding them) long enough to delay `argosy status` past a second. Rows are
        independent of each other, so a batch needs no single transaction; deletes go first,
        with the first slice, as they did before.
        """
        self._wake.clear()
        dirty, self._dirty = self._dirty, set()
        deleted, self._deleted = self._deleted, set()
        seen, self._seen = self._seen, {}
        detached, self._detached = self._detached, set()
        by_cluster = self._deployments.by_cluster
        upserts: list[DeploymentRecord] = []
        deletes = sorted(deleted)
        in_slice: list[tuple[str, str]] = []
        written: set[tuple[str, str]] = set()
        touched = list(seen.items())
        touched_upto = 0
        try:
            for key in dirty:
                b, c = key
                in_slice.append(key)
                # Re-read per row: the loop ran between slices, and the cluster may be gone.
                if b in by_cluster.get(c, {}) and self._writes_rows(c, detached):
                    upserts.append(by_cluster[c][b].record())
                if len(upserts) >= rows_per_slice:
                    await self._store.save_deployments(upserts, deletes)
                    written.update(in_slice)
                    upserts, deletes, in_slice = [], [], []
            if upserts or deletes:
                await self._store.save_deployments(upserts, deletes)
            written.update(in_slice)
            deletes = []
            for i in range(0, len(touched), rows_per_slice):
                await self._store.touch_clusters(dict(touched[i : i + rows_per_slice]))
                touched_upto = i + rows_per_slice
        except BaseException:
            # Cancelled at shutdown (the final flush follows) or a store error (the loop runs
            # again): what was not written yet goes back, or it would be lost for good. A slice
            # in flight may be written twice; rows are upserts, so that is harmless.
            self._dirty |= dirty - written
            self._deleted.update(d for d in deletes if d not in self._dirty)
            for cluster_id, when in touched[touched_upto:]:
                self._seen.setdefault(cluster_id, when)
            self._detached |= detached
            self._wake.set()
            raise
