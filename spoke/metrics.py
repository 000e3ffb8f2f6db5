"""The spoke's Prometheus metrics: what its /metrics (--metrics-listen) shows.

Applies are observed as they finish (the reconciler's `on_applied` hook); what the spoke holds
and how its link and watches fare are read at scrape time. No label names a bundle or an
object: a spoke's series are few whatever it holds (the hub names failing deployments).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from spoke.backends.base import Backend
    from spoke.link import Link
    from spoke.reconciler import Reconciler

# One small ConfigMap in milliseconds, to thousands of objects through a slow API server.
APPLY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class SpokeMetrics:
    """The spoke's registry (its own, not prometheus_client's global one) and its events."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.apply_duration = Histogram(
            "argosy_spoke_apply_duration_seconds",
            "Seconds one apply of a bundle took (a new revision or a retry; prune included)",
            buckets=APPLY_BUCKETS,
            registry=self.registry,
        )
        self.apply_errors = Counter(
            "argosy_spoke_apply_errors",
            "Applies of a bundle that ended in an error (some object refused or failed)",
            registry=self.registry,
        )
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)

    def applied(self, seconds: float, error: str) -> None:
        self.apply_duration.observe(seconds)
        if error:
            self.apply_errors.inc()

    def watch(self, *, reconciler: Reconciler, backend: Backend, link: Link | None) -> None:
        """Observe the reconciler's applies, and show these at every scrape."""
        reconciler.on_applied = self.applied
        self.registry.register(SpokeCollector(reconciler=reconciler, backend=backend, link=link))


class SpokeCollector(Collector):
    def __init__(self, *, reconciler: Reconciler, backend: Backend, link: Link | None) -> None:
        self._reconciler = reconciler
        self._backend = backend
        self._link = link

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "argosy_spoke_resources_held",
            "Objects the spoke manages for its bundles now",
            value=self._reconciler.resource_count,
        )
        yield GaugeMetricFamily(
            "argosy_spoke_bundles_held",
            "Bundles (deployments) the spoke holds",
            value=self._reconciler.bundle_count,
        )
        yield CounterMetricFamily(
            "argosy_spoke_watch_restarts",
            "Times a watch of the cluster started over: relisted (410 Gone) or resumed after "
            "a failure",
            value=self._backend.watch_restarts,
        )
        if self._link is not None:
            yield GaugeMetricFamily(
                "argosy_spoke_hub_connected",
                "1 while the stream to the hub is up",
                value=1 if self._link.connected.is_set() else 0,
            )
