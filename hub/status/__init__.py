"""What the hub shows: the status book (incremental roll-ups of deployment states), pure views
of deployments, and (hub/watch.py) the broadcast of views to watchers.

Depends on the core (it subscribes to StateChanged); the core never imports it. Protobuf
conversion happens only at the servicer edge.
"""

from hub.status.book import (
    SUMMARY_NAMES,
    BundleView,
    ClusterInfo,
    ClusterView,
    GroupView,
    StatusBook,
    summarize,
)
from hub.status.views import DetailView, detail, explain, rollout_view

__all__ = [
    "SUMMARY_NAMES",
    "BundleView",
    "ClusterInfo",
    "ClusterView",
    "DetailView",
    "GroupView",
    "StatusBook",
    "detail",
    "explain",
    "rollout_view",
    "summarize",
]
