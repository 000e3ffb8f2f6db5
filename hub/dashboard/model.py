"""The dashboard's picture of the fleet: bundle and cluster rows kept current from the status
broadcaster's messages (hub/watch.py), one copy for every browser.

Applying a message returns the Server-Sent Event that tells browsers what changed, serialised
once here rather than once per browser.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from argosy.api.v1 import fleet_pb2
from hub.dashboard.views import Row, banner, bundle_row, by_severity, cluster_row, delta_event


class Model:
    def __init__(self) -> None:
        self.bundles: dict[str, Row] = {}
        self.clusters: dict[str, Row] = {}
        # Sorted lists, rebuilt only after a change: a page request at 10,000 clusters must
        # not sort them all each time.
        self._bundle_list: list[Row] | None = None
        self._cluster_list: list[Row] | None = None
        self._health: Row | None = None
        # The banner's counts, moved as rows come and go: a one-cluster update at 10,000
        # clusters must not count them all again (up to 20 broadcasts a second).
        self._deployments: Counter[str] = Counter()
        self._cluster_states: Counter[str] = Counter()
        self._connected = 0

    def _count_bundle(self, row: Row, sign: int) -> None:
        for state, count in row["counts"].items():
            self._deployments[state] += sign * count

    def _count_cluster(self, row: Row, sign: int) -> None:
        self._cluster_states[row["state"]] += sign
        self._connected += sign * bool(row["connected"])

    def _put(self, table: dict[str, Row], row: Row, count: Callable[[Row, int], None]) -> None:
        old = table.get(row["name"])
        if old is not None:
            count(old, -1)
        table[row["name"]] = row
        count(row, 1)

    def _pop(self, table: dict[str, Row], name: str, count: Callable[[Row, int], None]) -> None:
        old = table.pop(name, None)
        if old is not None:
            count(old, -1)

    def apply(self, msg: fleet_pb2.WatchStatusResponse) -> bytes:
        if msg.snapshot:
            self.bundles.clear()
            self.clusters.clear()
            self._deployments.clear()
            self._cluster_states.clear()
            self._connected = 0
        bundles = [bundle_row(b) for b in msg.bundles]
        for row in bundles:
            self._put(self.bundles, row, self._count_bundle)
        for c in msg.clusters:
            self._put(self.clusters, cluster_row(c), self._count_cluster)
        for name in msg.removed_bundles:
            self._pop(self.bundles, name, self._count_bundle)
        for name in msg.removed_clusters:
            self._pop(self.clusters, name, self._count_cluster)
        if msg.snapshot or bundles or msg.removed_bundles:
            self._bundle_list = None
        if msg.snapshot or msg.clusters or msg.removed_clusters:
            self._cluster_list = None
        self._health = None
        # After a snapshot the page fetches everything again: naming all 10,000 clusters in
        # the event would only make it bigger.
        return delta_event(
            health_row=self.health(),
            bundles=[] if msg.snapshot else bundles,
            clusters=[] if msg.snapshot else [c.name for c in msg.clusters],
            removed_bundles=list(msg.removed_bundles),
            removed_clusters=list(msg.removed_clusters),
            snapshot=msg.snapshot,
        )

    def health(self) -> Row:
        if self._health is None:
            self._health = banner(
                bundles=len(self.bundles),
                deployments=self._deployments,
                cluster_states=self._cluster_states,
                connected=self._connected,
            )
        return self._health

    def bundle_list(self) -> list[Row]:
        if self._bundle_list is None:
            self._bundle_list = by_severity(self.bundles.values())
        return self._bundle_list

    def cluster_list(self) -> list[Row]:
        if self._cluster_list is None:
            self._cluster_list = by_severity(self.clusters.values())
        return self._cluster_list
