"""What a replica does with each kind of change another replica announces.

`ReplicaFleet` is the part of the fleet the feed drives; naming it here, rather than importing
hub/fleet.py, keeps replication testable with an in-memory fake and free of the hub's core.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Protocol

from hub.replication.messages import Change, pair

log = logging.getLogger(__name__)


class ReplicaFleet(Protocol):
    """The fleet, as the change feed sees it (implemented by hub.fleet.Fleet)."""

    async def reload_bundle(self, name: str) -> None: ...
    async def reload_cluster(self, cluster_id: str) -> None: ...
    async def reload_group(self, name: str) -> None: ...
    async def reload_control(self, name: str) -> None: ...
    async def import_deployments(self, keys: Sequence[tuple[str, str]]) -> None: ...
    def remote_released(self, bundle: str, released: Iterable[tuple[str, str]]) -> None: ...
    def remote_retry(self, bundle: str, cluster_ids: Iterable[str]) -> None: ...
    def remote_attached(
        self, origin: str, cluster_ids: Iterable[str], *, attached: bool
    ) -> None: ...
    def peer_gone(self, origin: str) -> None: ...
    def attached_here(self) -> list[str]: ...
    async def resync(self) -> None: ...


async def apply_change(fleet: ReplicaFleet, change: Change) -> None:
    """Make another replica's change here, as if it had been made locally.

    Records are re-read from the store, not carried in the change: the store has them already,
    committed, and a NOTIFY payload could not hold a bundle anyway.
    """
    kind, name, ids = change.kind, change.name, change.ids
    if kind == "bundle":
        await fleet.reload_bundle(name)
    elif kind == "cluster":
        await fleet.reload_cluster(name)
    elif kind == "group":
        await fleet.reload_group(name)
    elif kind == "control":
        await fleet.reload_control(name)
    elif kind == "deployments":
        await fleet.import_deployments([pair(i) for i in ids])
    elif kind == "released":
        fleet.remote_released(name, [pair(i) for i in ids])
    elif kind == "retry":
        fleet.remote_retry(name, ids)
    elif kind in ("attach", "detach"):
        fleet.remote_attached(change.origin, ids, attached=kind == "attach")
    elif kind != "alive":
        log.warning("unknown change kind %r from replica %s", kind, change.origin)
