"""Which other replicas are alive: each says so every second on the feed. Pure (time is given).

A replica silent for `timeout` is taken for dead; the streams it held are then taken for down
(their spokes reconnect to a live replica).
"""

from __future__ import annotations


class PeerTable:
    """When each other replica was last heard from."""

    def __init__(self, *, timeout: float) -> None:
        self._timeout = timeout
        self._heard: dict[str, float] = {}

    def heard(self, origin: str, now: float) -> bool:
        """Record a message from `origin`; True when it is a replica not heard from before (or
        since it was taken for dead)."""
        new = origin not in self._heard
        self._heard[origin] = now
        return new

    def received(self, origin: str, now: float) -> None:
        """A message from a known `origin` arrived (it may wait in the inbox a while before it is
        applied): it is alive now. An unknown origin is left for `heard` to greet."""
        if origin in self._heard:
            self._heard[origin] = now

    def expire(self, now: float) -> list[tuple[str, float]]:
        """Forget the replicas silent longer than the timeout; each with how long it was silent."""
        gone = [(o, now - t) for o, t in self._heard.items() if now - t > self._timeout]
        for origin, _ in gone:
            del self._heard[origin]
        return gone

    def __contains__(self, origin: object) -> bool:
        return origin in self._heard

    def first(self, origin: str) -> bool:
        """Whether `origin` sorts before every replica heard from (True with none heard)."""
        return all(origin < other for other in self._heard)
