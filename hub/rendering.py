"""Targeting and rendering: which clusters a bundle reaches, and what each receives.

Rendering is the expensive step (Helm, Kustomize), so each distinct effective input (the
target's render key) is rendered once, however many clusters share it, and concurrent requests
for the same key wait on the one render in flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from argosy.bundle import Bundle
from argosy.selectors import LabelSelector
from hub.models import ClusterRecord
from hub.rendered import ApplyOptions, LruCache, Rendered


@dataclass(frozen=True)
class Target:
    """A bundle's decision for one cluster: render with this key."""

    render_key: str
    customization: str = ""


def target_for(
    bundle: Bundle, cluster: ClusterRecord, groups: Mapping[str, LabelSelector]
) -> Target | None:
    """Whether bundle reaches cluster, and with which input (pure).

    A bundle without targets reaches every cluster, as Fleet's default cluster group does.
    """
    del cluster, groups  # raw-YAML bundles have no per-cluster input yet
    return Target(render_key=bundle.revision)


class Renderer:
    """Renders targets, once per distinct render key, remembering recent results."""

    def __init__(self, *, capacity: int = 4096) -> None:
        self._cache: LruCache[str, Rendered] = LruCache(capacity)
        self._inflight: dict[str, asyncio.Future[Rendered]] = {}
        self.renders = 0

    def cached(self, target: Target) -> Rendered | None:
        return self._cache.get(target.render_key)

    async def render(self, bundle: Bundle, target: Target, cluster: ClusterRecord) -> Rendered:
        hit = self._cache.get(target.render_key)
        if hit is not None:
            return hit
        pending = self._inflight.get(target.render_key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Rendered] = asyncio.get_running_loop().create_future()
        self._inflight[target.render_key] = future
        try:
            self.renders += 1
            rendered = await self._render(bundle, target, cluster)
            self._cache.put(target.render_key, rendered)
            future.set_result(rendered)
            return rendered
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it; nobody else needs a warning
            raise
        finally:
            del self._inflight[target.render_key]

    async def _render(self, bundle: Bundle, target: Target, cluster: ClusterRecord) -> Rendered:
        del target, cluster
        return Rendered.of(bundle.resources, ApplyOptions())
