"""The dashboard's picture of the fleet: bundle and cluster rows kept current from the status
broadcaster's messages (hub/watch.py), one copy for every browser.

Applying a message returns the Server-Sent Event that tells browsers what changed, serialised
once here rather than once per browser.
"""

from __future__ import annotations

from argosy.api.v1 import fleet_pb2
from hub.dashboard.views import Row, bundle_row, by_severity, cluster_row, delta_event, health


class Model:
    def __init__(self) -> None:
        self.bundles: dict[str, Row] = {}
        self.clusters: dict[str, Row] = {}
        # Sorted lists, rebuilt only after a change: a page request at 10,000 clusters must
        # not sort them all each time.
        self._bundle_list: list[Row] | None = None
        self._cluster_list: list[Row] | None = None
        self._health: Row | None = None

    def apply(self, msg: fleet_pb2.WatchStatusResponse) -> bytes:
        if msg.snapshot:
            self.bundles.clear()
            self.clusters.clear()
        bundles = [bundle_row(b) for b in msg.bundles]
        for row in bundles:
            self.bundles[row["name"]] = row
        for c in msg.clusters:
            self.clusters[c.name] = cluster_row(c)
        for name in msg.removed_bundles:
            self.bundles.pop(name, None)
        for name in msg.removed_clusters:
            self.clusters.pop(name, None)
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
            self._health = health(self.bundles.values(), self.clusters.values())
        return self._health

    def bundle_list(self) -> list[Row]:
        if self._bundle_list is None:
            self._bundle_list = by_severity(self.bundles.values())
        return self._bundle_list

    def cluster_list(self) -> list[Row]:
        if self._cluster_list is None:
            self._cluster_list = by_severity(self.clusters.values())
        return self._cluster_list
