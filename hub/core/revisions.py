"""Rendered revisions held in memory: the ones some deployment wants now, and a bounded cache of
older ones (what spokes still hold, to diff against), backed by the store.

Sessions read revisions from here when they send, so a wanted revision is never awaited.
"""

from __future__ import annotations

from collections.abc import Iterable

from hub.core.planning import Plan
from hub.persistence.protocol import Store
from hub.rendered import LruCache, Rendered


class Revisions:
    def __init__(self, store: Store, *, cache_size: int = 1024) -> None:
        self._store = store
        # Revisions some deployment wants now (desired or released).
        self.live: dict[str, Rendered] = {}
        self._old: LruCache[str, Rendered] = LruCache(cache_size)

    def keep(self, rendered: Rendered) -> None:
        self.live[rendered.revision] = rendered

    def unstored(self, plan: Plan) -> dict[str, bytes]:
        """Rendered revisions of plan that the store does not hold yet, each encoded once
        (many clusters share a revision)."""
        distinct = {r.revision: r for r in plan.values() if isinstance(r, Rendered)}
        return {
            revision: r.encode()
            for revision, r in distinct.items()
            if revision not in self.live and self._old.get(revision) is None
        }

    def prune(self, wanted: Iterable[str]) -> None:
        """Move revisions no deployment wants any longer to the cache of old ones."""
        keep = set(wanted)
        for revision in [r for r in self.live if r not in keep]:
            self._old.put(revision, self.live.pop(revision))

    def get(self, revision: str) -> Rendered | None:
        return self.live.get(revision) or self._old.get(revision)

    async def fetch(self, revision: str) -> Rendered | None:
        """A revision's resources, from memory or, for an old one, the store."""
        hit = self.get(revision)
        if hit is not None or not revision:
            return hit
        data = await self._store.get_resource_set(revision)
        if data is None:
            return None
        rendered = Rendered.decode(data)
        self._old.put(revision, rendered)
        return rendered
