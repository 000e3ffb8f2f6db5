"""Rendering results for people (aligned tables) and for programs (JSON, YAML; camelCase)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from argosy.api.v1 import fleet_pb2


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """kubectl-style columns: left-aligned, three spaces apart."""
    cells = [list(headers), *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    return "\n".join(
        "   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells
    )


def labels_text(labels: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "<none>"


def bundle_state_text(b: fleet_pb2.BundleStatus) -> str:
    return b.summary or b.state or "-"


def status_dict(status: fleet_pb2.GetStatusResponse) -> dict[str, Any]:
    """The `argosy status -o json` document; its shape is part of the CLI contract."""
    return {
        "clusters": [
            {
                "name": c.name,
                "labels": dict(sorted(c.labels.items())),
                "state": c.state,
                "connected": c.connected,
                "bundlesReady": c.bundles_ready,
                "bundlesDesired": c.bundles_desired,
            }
            for c in status.clusters
        ],
        "groups": [
            {
                "name": g.name,
                "clusterCount": g.cluster_count,
                "bundlesReady": g.bundles_ready,
                "bundlesDesired": g.bundles_desired,
                "state": g.state,
            }
            for g in status.groups
        ],
        "bundles": [
            {
                "name": b.name,
                "clustersReady": b.clusters_ready,
                "clustersDesired": b.clusters_desired,
                "state": b.state,
                "summary": b.summary,
                "stateCounts": {s.state: s.count for s in b.state_counts},
                "revision": b.revision,
            }
            for b in status.bundles
        ],
    }


def status_tables(status: fleet_pb2.GetStatusResponse) -> str:
    groups = table(
        ["CLUSTER-GROUP", "CLUSTER-COUNT", "BUNDLES-READY", "BUNDLES-DESIRED", "STATUS"],
        [
            [g.name, g.cluster_count, g.bundles_ready, g.bundles_desired, g.state or "-"]
            for g in status.groups
        ],
    )
    clusters = table(
        ["CLUSTER", "LABELS", "BUNDLES-READY", "BUNDLES-DESIRED", "STATUS"],
        [
            [
                c.name,
                labels_text(c.labels),
                c.bundles_ready,
                c.bundles_desired,
                c.state if c.connected or c.state == "WaitCheckIn" else f"{c.state} (disconnected)",
            ]
            for c in status.clusters
        ],
    )
    bundles = table(
        ["BUNDLE", "CLUSTERS-READY", "CLUSTERS-DESIRED", "STATUS"],
        [
            [b.name, b.clusters_ready, b.clusters_desired, bundle_state_text(b)]
            for b in status.bundles
        ],
    )
    return f"{groups}\n\n{clusters}\n\n{bundles}"


def dump(data: Any, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, indent=2)
    return yaml.safe_dump(data, sort_keys=False).rstrip()
