"""Targeting and rendering on the hub: which clusters a bundle reaches, and what each receives.

Rendering is the expensive step (Helm, Kustomize), so each distinct effective input (the
target's render key) is rendered once, however many clusters share it, and concurrent requests
for the same key wait on the one render in flight. Charts from repositories are fetched by one
shared ChartFetcher, cached in the hub's data dir (hub/app.py builds it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping

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
        on_render: Callable[[float], None] | None = None,
    ) -> None:
        self._cache: LruCache[str, Rendered] = LruCache(capacity)
        # One fetcher for every render: a remote chart is fetched once for the whole fleet.
        self.charts = charts or ChartFetcher(time_limit=time_limit)
        self._inflight: dict[str, asyncio.Future[Rendered]] = {}
        self._time_limit = time_limit
        # Plain counts, read by the metrics collector at scrape time (hub/metrics.py): a plan
        # for 10,000 clusters looks the cache up 10,000 times, an increment each.
        self.renders = 0
        """Renders started (cache misses)."""
        self.hits = 0
        """Lookups answered without rendering: from the cache, or by a render in flight."""
        self.failures = 0
        """Renders that raised (a bad chart, a template error, the time limit)."""
        # Told each render's duration in seconds, failed ones too, cancelled ones not (metrics).
        self._on_render = on_render or (lambda seconds: None)

    def cached(self, target: Target) -> Rendered | None:
        hit = self._cache.get(target.render_key)
        if hit is not None:
            self.hits += 1
        return hit

    async def render(self, bundle: Bundle, target: Target) -> Rendered:
        hit = self._cache.get(target.render_key)
        if hit is not None:
            self.hits += 1
            return hit
        pending = self._inflight.get(target.render_key)
        if pending is not None:
            self.hits += 1
            return await asyncio.shield(pending)
        future: asyncio.Future[Rendered] = asyncio.get_running_loop().create_future()
        self._inflight[target.render_key] = future
        started = time.monotonic()
        try:
            self.renders += 1
            resources = await bundles.render(
                bundle, target, time_limit=self._time_limit, charts=self.charts
            )
            rendered = Rendered.of(resources, target.apply_options)
            self._cache.put(target.render_key, rendered)
            future.set_result(rendered)
            self._on_render(time.monotonic() - started)
            return rendered
        except BaseException as exc:
            if not isinstance(exc, asyncio.CancelledError):
                self.failures += 1
                self._on_render(time.monotonic() - started)
            future.set_exception(exc)
            future.exception()  # marked retrieved: waiters re-raise it themselves
            raise
        finally:
            del self._inflight[target.render_key]
