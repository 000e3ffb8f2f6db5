"""The hub's Prometheus metrics: what /metrics (--metrics-listen) shows.

Two kinds, so that the hot path (10,000 spokes' acks, reports and heartbeats) pays at most an
increment:
- gauges of state the hub keeps anyway (the status book's tallies, who is connected, rollouts,
  repositories) and counts its parts keep as plain integers (bytes sent, renders, reports) are
  read at scrape time by `HubCollector`;
- the two distributions (release-to-ack propagation, render duration) are prometheus_client
  Histograms, observed where the event happens (through hooks: the fleet and the renderer do not
  know this module).

Cardinality stays bounded: no family has a label per cluster except the two that show what is
wrong, `argosy_hub_deployment_not_ready` (non-Ready deployments only) and
`argosy_hub_cluster_offline` (offline clusters only). Each emits at most
--metrics-max-deployment-series series, worst state first but Offline and OutOfSync last
(`bounded`: the alert on non-Ready deployments ignores those two); how many were left out
is `argosy_hub_series_dropped{family=...}`, so a capped scrape is never mistaken for a full one.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, TypeVar

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from argosy.states import ORDER, RANK, State
from hub.rollout import COMPLETE, HALTED, PAUSED, PROGRESSING

if TYPE_CHECKING:
    from hub.delivery.payloads import SendCounters
    from hub.fleet import Fleet
    from hub.rendering import Renderer
    from hub.sources.git import GitSource, RepoState

DEFAULT_MAX_DEPLOYMENT_SERIES = 1000
ROLLOUT_STATES = (PROGRESSING, PAUSED, HALTED, COMPLETE)
NOT_READY = "argosy_hub_deployment_not_ready"
CLUSTER_OFFLINE = "argosy_hub_cluster_offline"

# From a LAN's tens of milliseconds to a rollout held up for half an hour.
PROPAGATION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800)
RENDER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


Entry = TypeVar("Entry", bound=Sequence[str])


# The order the capped families keep series in: worst state first, except that Offline and
# OutOfSync come last. ArgosyDeploymentNotReady (docs/alerts.yaml) ignores both (offline
# clusters have argosy_hub_cluster_offline, OutOfSync is held back on purpose), so a partition
# or a partitioned rollout of 1,000+ clusters must not fill the cap with series it ignores.
NOT_ALERTED = (State.OFFLINE.value, State.OUT_OF_SYNC.value)
CAP_RANK: dict[str, int] = {
    name: i + (len(RANK) if name in NOT_ALERTED else 0) for name, i in RANK.items()
}


def bounded(entries: Iterable[Entry], *, cap: int, rank: int = 1) -> tuple[list[Entry], int]:
    """At most `cap` of entries, those with the worst state (entry[rank], by CAP_RANK) first,
    then by the other fields; and how many were left out (pure). O(n log cap)."""
    items = list(entries)
    unknown = 2 * len(RANK)
    if len(items) <= cap:
        return sorted(items, key=lambda e: (CAP_RANK.get(e[rank], unknown), *e)), 0
    kept = heapq.nsmallest(cap, items, key=lambda e: (CAP_RANK.get(e[rank], unknown), *e))
    return kept, len(items) - len(kept)


class HubMetrics:
    """The hub's registry (its own, not prometheus_client's global one) and its histograms."""

    def __init__(
        self,
        *,
        max_deployment_series: int = DEFAULT_MAX_DEPLOYMENT_SERIES,
        heartbeat_seconds: float = 30.0,
    ) -> None:
        self.registry = CollectorRegistry()
        self._collector: HubCollector | None = None
        self.max_deployment_series = max_deployment_series
        self.heartbeat_seconds = heartbeat_seconds
        self.propagation = Histogram(
            "argosy_hub_propagation_seconds",
            "Seconds from a revision's release to a cluster (an apply, or the rollout letting "
            "it through) to the spoke's ack that it applied it",
            buckets=PROPAGATION_BUCKETS,
            registry=self.registry,
        )
        self.render_duration = Histogram(
            "argosy_hub_render_duration_seconds",
            "Seconds one render (Helm, Kustomize, overlays) of a distinct input took",
            buckets=RENDER_BUCKETS,
            registry=self.registry,
        )
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)

    def watch(
        self,
        *,
        fleet: Fleet,
        sent: SendCounters,
        renderer: Renderer,
        git: GitSource | None = None,
    ) -> None:
        """Show the state of these at every scrape, and have them observe the histograms."""
        fleet.observe_propagation = self.propagation.observe
        if self._collector is not None:  # a Hub run again (tests): the new fleet replaces it
            self.registry.unregister(self._collector)
        self._collector = HubCollector(
            fleet=fleet,
            sent=sent,
            renderer=renderer,
            git=git,
            max_series=self.max_deployment_series,
            heartbeat_seconds=self.heartbeat_seconds,
        )
        self.registry.register(self._collector)


class HubCollector(Collector):
    """Reads the hub's in-memory state at scrape time (on the event loop: see argosy/metrics)."""

    def __init__(
        self,
        *,
        fleet: Fleet,
        sent: SendCounters,
        renderer: Renderer,
        git: GitSource | None,
        max_series: int,
        heartbeat_seconds: float,
    ) -> None:
        self._fleet = fleet
        self._sent = sent
        self._renderer = renderer
        self._git = git
        self._max_series = max_series
        self._heartbeat = heartbeat_seconds

    def describe(self) -> Iterable[Metric]:
        return []  # families are known at collect time; nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        dropped: dict[str, int] = {}
        yield from self._bundles(dropped)
        yield from self._clusters(dropped)
        family = GaugeMetricFamily(
            "argosy_hub_series_dropped",
            "Series a capped family left out of this scrape (--metrics-max-deployment-series)",
            labels=["family"],
        )
        for name, count in dropped.items():
            family.add_metric([name], count)
        yield family
        yield from self._delivery()
        yield from self._rendering()
        yield from self._rollouts()
        if self._git is not None:
            yield from repo_families(self._git.states())

    def _bundles(self, dropped: dict[str, int]) -> Iterator[Metric]:
        book = self._fleet.status
        names = book.bundle_names()
        yield GaugeMetricFamily("argosy_hub_bundles", "Bundles the hub holds", value=len(names))
        counts = GaugeMetricFamily(
            "argosy_hub_bundle_deployments",
            "Deployments of each bundle in each state (every state shown, 0 included)",
            labels=["bundle", "state"],
        )
        for name in names:
            per_state = book.state_counts(name)
            for each in ORDER:
                counts.add_metric([name, each.value], per_state.get(each.value, 0))
        yield counts
        entries = list(book.every_not_ready())
        kept, dropped[NOT_READY] = bounded(entries, cap=self._max_series)
        not_ready = GaugeMetricFamily(
            NOT_READY,
            "1 for each deployment (bundle on cluster) that is not Ready, with its state; "
            "Ready ones are not shown. At most --metrics-max-deployment-series series, worst "
            "state first but Offline and OutOfSync last (argosy_hub_series_dropped says how "
            "many more)",
            labels=["bundle", "state", "cluster"],
        )
        for bundle, state_name, cluster in kept:
            not_ready.add_metric([bundle, state_name, cluster], 1)
        yield not_ready
        yield GaugeMetricFamily(
            "argosy_hub_deployments_not_ready",
            "Deployments not Ready, all of them (not capped)",
            value=len(entries),
        )

    def _clusters(self, dropped: dict[str, int]) -> Iterator[Metric]:
        fleet = self._fleet
        liveness, inventory = fleet.liveness, fleet.inventory
        offline_ids = fleet.deployments.offline
        yield GaugeMetricFamily(
            "argosy_hub_clusters", "Clusters registered", value=len(inventory.clusters)
        )
        yield GaugeMetricFamily(
            "argosy_hub_clusters_connected",
            "Clusters whose stream is up, on this replica or another",
            value=len(liveness.listeners) + len(liveness.remote),
        )
        yield GaugeMetricFamily(
            "argosy_hub_clusters_connected_here",
            "Clusters whose stream this replica holds",
            value=len(liveness.listeners),
        )
        yield GaugeMetricFamily(
            "argosy_hub_clusters_offline",
            "Clusters down past --offline-grace-seconds",
            value=len(offline_ids),
        )
        names = [(inventory.cluster_name(c),) for c in offline_ids]
        kept, dropped[CLUSTER_OFFLINE] = bounded(names, cap=self._max_series, rank=0)
        offline = GaugeMetricFamily(
            CLUSTER_OFFLINE,
            "1 for each offline cluster (online ones are not shown); at most "
            "--metrics-max-deployment-series series",
            labels=["cluster"],
        )
        for (name,) in kept:
            offline.add_metric([name], 1)
        yield offline
        now = time.monotonic()
        ages = [now - t for t in liveness.heard.values()]
        yield GaugeMetricFamily(
            "argosy_hub_heartbeat_age_max_seconds",
            "Seconds since the least recently heard of the clusters connected here last sent "
            "a heartbeat (or its hello); 0 with none connected",
            value=max(ages, default=0.0),
        )
        late = 2 * self._heartbeat
        yield GaugeMetricFamily(
            "argosy_hub_heartbeats_late",
            "Clusters connected here not heard from for two heartbeat intervals",
            value=sum(1 for a in ages if a > late),
        )
        yield CounterMetricFamily(
            "argosy_hub_status_reports",
            "Status reports received from spokes (each may carry several deployments)",
            value=fleet.status_reports,
        )
        yield CounterMetricFamily(
            "argosy_hub_acks_failed",
            "Acks in which a spoke said it could not apply a revision",
            value=fleet.acks_failed,
        )
        yield CounterMetricFamily(
            "argosy_hub_rejected_messages",
            "Acks and reports naming another cluster's deployment, refused",
            value=fleet.rejected,
        )

    def _delivery(self) -> Iterator[Metric]:
        sent = self._sent
        sent_bytes = CounterMetricFamily(
            "argosy_hub_sent_bytes",
            "Bytes sent to spokes: whole revisions (full), changes since the revision held "
            "(diff), deletes and retries (control)",
            labels=["kind"],
        )
        sent_bytes.add_metric(["full"], sent.full_bytes)
        sent_bytes.add_metric(["diff"], sent.diff_bytes)
        sent_bytes.add_metric(["control"], sent.control_bytes)
        yield sent_bytes
        messages = CounterMetricFamily(
            "argosy_hub_sent_messages",
            "Deployment messages sent to spokes, by kind (an upsert in chunks counts once)",
            labels=["kind"],
        )
        messages.add_metric(["full"], sent.full)
        messages.add_metric(["diff"], sent.diff)
        messages.add_metric(["delete"], sent.deletes)
        messages.add_metric(["retry"], sent.retries)
        yield messages

    def _rendering(self) -> Iterator[Metric]:
        r = self._renderer
        yield CounterMetricFamily(
            "argosy_hub_renders", "Renders of a distinct input (cache misses)", value=r.renders
        )
        yield CounterMetricFamily(
            "argosy_hub_render_cache_hits",
            "Render lookups answered from the cache or by a render already in flight",
            value=r.hits,
        )
        yield CounterMetricFamily(
            "argosy_hub_render_failures", "Renders that failed", value=r.failures
        )

    def _rollouts(self) -> Iterator[Metric]:
        fleet = self._fleet
        state = GaugeMetricFamily(
            "argosy_hub_rollout_state",
            "1 for the state each gated bundle's rollout is in, 0 for the others (bundles "
            "without a rolloutStrategy or pause are not shown)",
            labels=["bundle", "state"],
        )
        failures = GaugeMetricFamily(
            "argosy_hub_rollout_failures",
            "Clusters counted as failed by each gated bundle's rollout",
            labels=["bundle"],
        )
        for name in sorted(fleet.inventory.bundles):
            plan = fleet.rollout(name)
            if plan is None:
                continue
            for s in (*ROLLOUT_STATES, *([plan.state] if plan.state not in ROLLOUT_STATES else [])):
                state.add_metric([name, s], 1 if s == plan.state else 0)
            failures.add_metric([name], plan.failures)
        yield state
        yield failures


def repo_families(states: Iterable[RepoState]) -> tuple[Metric, ...]:
    """The git sources' families, from their repositories' states (pure)."""
    fetches = CounterMetricFamily(
        "argosy_hub_repo_fetches",
        "Fetches of each git repository since this hub started, by result",
        labels=["repo", "result"],
    )
    in_a_row = GaugeMetricFamily(
        "argosy_hub_repo_failures_in_a_row",
        "Failed fetches of each repository since the last one that worked",
        labels=["repo"],
    )
    path_errors = GaugeMetricFamily(
        "argosy_hub_repo_path_errors",
        "Paths of each repository whose bundle could not be applied at the last fetch",
        labels=["repo"],
    )
    last = GaugeMetricFamily(
        "argosy_hub_repo_last_fetch_timestamp_seconds",
        "When each repository was last fetched (Unix time; 0: not yet)",
        labels=["repo"],
    )
    for state in sorted(states, key=lambda s: s.repo.name):
        name = state.repo.name
        fetches.add_metric([name, "success"], state.succeeded)
        fetches.add_metric([name, "failure"], state.failed)
        in_a_row.add_metric([name], state.failures)
        path_errors.add_metric([name], len(state.path_errors))
        last.add_metric([name], state.last_fetch)
    return (fetches, in_a_row, path_errors, last)
