"""Targeting and rendering on the hub: which clusters a bundle reaches, and what each receives.

Rendering is the expensive step (Helm, Kustomize), so each distinct effective input (the
target's render key) is rendered once, however many clusters share it, and concurrent requests
for the same key wait on the one render in flight. Charts from repositories are fetched by one
shared ChartFetcher, cached in the hub's data dir (hub/app.py builds it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from argosy import bundle as bundles
from argosy.bundle import Bundle, Target
from argosy.bundle.charts import ChartFetcher
from argosy.bundle.targeting import render_key
from argosy.selectors import LabelSelector
from hub.models import ClusterRecord
from hub.rendered import LruCache, Rendered

# Stands for "any cluster" when a bundle is checked before any cluster exists.
PROBE_CLUSTER = ClusterRecord(id="", name="probe", labels={}, credential_hash="", created=0)


def target_for(
    bundle: Bundle, cluster: ClusterRecord, groups: Mapping[str, LabelSelector]
) -> Target | None:
    """Whether bundle reaches cluster, and with which render input (pure)."""
    return bundles.target_for(
        bundle, bundles.Cluster(name=cluster.name, labels=dict(cluster.labels)), groups
    )


def base_target(bundle: Bundle) -> Target:
    """The bundle with its own options, for no cluster: what apply renders to check a bundle
    that no cluster receives yet. `${ }` value templates are left as written (pure)."""
    options = bundle.options.deployment
    return Target(
        bundle=bundle.name,
        cluster="",
        customizations=(),
        options=options,
        context={},
        render_key=render_key(bundle.revision, options, {}),
    )


class Renderer:
    """Renders targets, once per distinct render key, remembering recent results."""

    def __init__(
        self,
        *,
        capacity: int = 4096,
        time_limit: float = 60.0,
        charts: ChartFetcher | None = None,
    ) -> None:
        self._cache: LruCache[str, Rendered] = LruCache(capacity)
        # One fetcher for every render: a remote chart is fetched once for the whole fleet.
        self.charts = charts or ChartFetcher(time_limit=time_limit)
        self._inflight: dict[str, asyncio.Future[Rendered]] = {}
        self._time_limit = time_limit
        self.renders = 0

    def cached(self, target: Target) -> Rendered | None:
        return self._cache.get(target.render_key)

    async def render(self, bundle: Bundle, target: Target) -> Rendered:
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
            resources = await bundles.render(
                bundle, target, time_limit=self._time_limit, charts=self.charts
            )
            rendered = Rendered.of(resources, target.apply_options)
            self._cache.put(target.render_key, rendered)
            future.set_result(rendered)
            return rendered
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # marked retrieved: waiters re-raise it themselves
            raise
        finally:
            del self._inflight[target.render_key]
