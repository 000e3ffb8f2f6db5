"""Who is connected and who is offline: the live session of each cluster on this replica, the
clusters whose stream another replica holds, and the one sweeper that marks clusters Offline
once they have been down past the grace period.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable

from hub.core.deployments import Deployments
from hub.core.inventory import Inventory
from hub.core.ports import Listener, Presence

log = logging.getLogger(__name__)


class Liveness:
    def __init__(
        self,
        *,
        inventory: Inventory,
        deployments: Deployments,
        presence: Presence,
        grace: float = 60.0,
        on_offline: Callable[[str, bool], None] = lambda cluster_id, offline: None,
    ) -> None:
        self._inventory = inventory
        self._deployments = deployments
        self._presence = presence
        self._grace = grace
        # The one live session of each cluster whose stream is here.
        self.listeners: dict[str, Listener] = {}
        # Which other replica holds each cluster's stream.
        self.remote: dict[str, str] = {}
        # When each disconnected cluster went down (monotonic).
        self.down_since: dict[str, float] = {}
        # Told when a cluster goes Offline or comes back, on the one replica that records it
        # (the event log): where its stream ended or opened, not every replica that hears.
        self._on_offline = on_offline
        # Down clusters whose going Offline this replica records: their stream ended here (or
        # on a replica that died), or this hub started without them.
        self._records_down: set[str] = set()
        # Down since this replica loaded the fleet, with other replicas perhaps about: no
        # stream was seen to end, so no replica owns recording them. The first live replica
        # (`first`, asked at the end of the grace, when the replicas know each other and
        # those holding streams have said so) records them; a lone hub always does.
        self._unclaimed: set[str] = set()
        self.first: Callable[[], bool] = lambda: True
        # When each cluster whose stream is here was last heard from (hello or heartbeat,
        # monotonic): the metrics' heartbeat age. One assignment per heartbeat.
        self.heard: dict[str, float] = {}

    def connected(self, cluster_id: str) -> bool:
        """Whether the cluster's stream is up, here or on another replica."""
        return cluster_id in self.listeners or cluster_id in self.remote

    def offline(self, cluster_id: str) -> bool:
        return cluster_id in self._deployments.offline

    def notify(self, cluster_id: str, bundles: list[str]) -> None:
        listener = self.listeners.get(cluster_id)
        if listener is not None:
            listener.notify(bundles)

    def went_down(self, cluster_id: str, *, here: bool = True) -> None:
        self.down_since[cluster_id] = time.monotonic()
        self._unclaimed.discard(cluster_id)
        if here:
            self._records_down.add(cluster_id)
        else:
            self._records_down.discard(cluster_id)

    def down_at_start(self, cluster_id: str, *, recorded: bool = False) -> None:
        """The cluster is in the store but no stream of it here yet (at load): Offline past the
        grace unless it comes back, here or on another replica; recorded by the first replica
        unless its going Offline is the last thing recorded of it (before a restart, or by a
        replica still running)."""
        self.went_down(cluster_id, here=False)
        if not recorded:
            self._unclaimed.add(cluster_id)

    def attach(self, cluster_id: str, listener: Listener) -> None:
        """Make listener the cluster's one live session; a second stream replaces the first."""
        old = self.listeners.get(cluster_id)
        if old is not None:
            old.close("replaced by a newer stream from the same cluster")
        self.listeners[cluster_id] = listener
        self.heard[cluster_id] = time.monotonic()
        self._presence.set_connected(cluster_id, True)
        self.down_since.pop(cluster_id, None)
        self._unclaimed.discard(cluster_id)
        self.set_offline(cluster_id, False, record=True)
        self.remote.pop(cluster_id, None)

    def detach(self, cluster_id: str, listener: Listener) -> bool:
        """End listener's stream; False when it is no longer the cluster's session."""
        if self.listeners.get(cluster_id) is not listener:
            return False
        del self.listeners[cluster_id]
        self.heard.pop(cluster_id, None)
        if cluster_id in self._inventory.clusters:
            self.went_down(cluster_id)
            self._presence.set_connected(cluster_id, False)
        return True

    def remote_attached(
        self, origin: str, cluster_ids: Iterable[str], *, attached: bool, gone: bool = False
    ) -> None:
        """A cluster's stream opened (or closed) on replica `origin`; gone: that replica died,
        and this one records its clusters going Offline."""
        for cluster_id in cluster_ids:
            if cluster_id not in self._inventory.clusters or cluster_id in self.listeners:
                continue
            if attached:
                self.remote[cluster_id] = origin
                self._presence.set_connected(cluster_id, True)
                self.down_since.pop(cluster_id, None)
                self._unclaimed.discard(cluster_id)
                self.set_offline(cluster_id, False, record=False)
            elif self.remote.get(cluster_id) == origin:
                del self.remote[cluster_id]
                self._presence.set_connected(cluster_id, False)
                self.went_down(cluster_id, here=gone)

    def forget(self, cluster_id: str) -> None:
        self.down_since.pop(cluster_id, None)
        self._records_down.discard(cluster_id)
        self._unclaimed.discard(cluster_id)
        self.remote.pop(cluster_id, None)

    async def run(self, *, interval: float = 1.0) -> None:
        """One sweeper for every cluster: mark clusters Offline once down past the grace."""
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            offline = self._deployments.offline
            for cluster_id, since in list(self.down_since.items()):
                # Offline clusters leave the sweep: 5,000 streams lost with a dead replica
                # were otherwise walked every second until each came back.
                if cluster_id in offline:
                    del self.down_since[cluster_id]
                    self._unclaimed.discard(cluster_id)
                elif now - since >= self._grace:
                    record = cluster_id in self._records_down or (
                        cluster_id in self._unclaimed and self.first()
                    )
                    self._unclaimed.discard(cluster_id)
                    self.set_offline(cluster_id, True, record=record)
                    del self.down_since[cluster_id]

    def set_offline(self, cluster_id: str, offline: bool, *, record: bool = False) -> None:
        if self.offline(cluster_id) == offline or cluster_id not in self._inventory.clusters:
            return
        if offline:
            log.warning("cluster %s is offline", self._inventory.clusters[cluster_id].name)
        self._presence.set_offline(cluster_id, offline)
        self._deployments.set_offline(cluster_id, offline)
        if record:
            self._on_offline(cluster_id, offline)
