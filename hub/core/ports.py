"""What the core needs from the layers around it, as protocols: the core imports none of them.

A connected spoke's session (hub/delivery), the other replicas (hub/replication) and whatever
shows connectivity (hub/status) are handed in by the composition root.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol


class Listener(Protocol):
    """A connected spoke's session, as the fleet sees it."""

    def notify(self, bundles: Iterable[str]) -> None: ...
    def retry(self, bundles: Iterable[str]) -> None: ...
    def close(self, reason: str) -> None: ...


class Peers(Protocol):
    """The other hub replicas on the same database (hub/replication.py); None for a lone hub."""

    def publish(
        self, kind: str, name: str = "", *, ids: Sequence[str] = (), revision: str = ""
    ) -> None:
        """Tell the other replicas about a change; never waits (sent in order, soon after)."""
        ...

    async def lead(self, bundle: str) -> bool:
        """Whether this replica holds the lease to decide the bundle's rollout releases."""
        ...

    def first(self) -> bool:
        """Whether this replica comes first (by id) among the live replicas it knows of: the
        one that records what no replica's stream saw, e.g. a cluster away at startup."""
        ...


class Presence(Protocol):
    """Where a cluster's connectivity is shown (the status book)."""

    def set_connected(self, cluster_id: str, connected: bool) -> None: ...
    def set_offline(self, cluster_id: str, offline: bool) -> None: ...
