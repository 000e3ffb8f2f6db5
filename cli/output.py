"""Rendering results for people (aligned tables) and for programs (JSON, YAML; camelCase)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import yaml

from argosy.api.v1 import fleet_pb2
from argosy.states import State

# A cluster's state before its spoke first checks in. Cluster-only, so not a deployment State.
WAIT_CHECK_IN = "WaitCheckIn"
# Rollout states, as the hub's rollout gate names them on the wire (RolloutStatus.state,
# PartitionStatus.state). They are not deployment states, so argosy.states does not list them.
ROLLOUT_PROGRESSING, ROLLOUT_HALTED, ROLLOUT_COMPLETE, ROLLOUT_PAUSED = (
    "Progressing",
    "Halted",
    "Complete",
    "Paused",
)


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


def _detail(d: fleet_pb2.DeploymentDetail) -> dict[str, Any]:
    return {
        "bundle": d.bundle,
        "cluster": d.cluster,
        "state": d.state,
        "stale": d.stale,
        "held": d.held,
        "revision": d.revision,
        "appliedRevision": d.applied_revision,
        "message": d.message,
        "resources": [
            {
                "key": r.key,
                "ready": r.ready,
                "modified": r.modified,
                "missing": r.missing,
                "message": r.message,
            }
            for r in d.resources
        ],
    }


def status_dict(status: fleet_pb2.GetStatusResponse) -> dict[str, Any]:
    """The `argosy status -o json` document; its shape is part of the CLI contract."""
    clusters = []
    for c in status.clusters:
        entry: dict[str, Any] = {
            "name": c.name,
            "labels": dict(sorted(c.labels.items())),
            "state": c.state,
            "connected": c.connected,
            "bundlesReady": c.bundles_ready,
            "bundlesDesired": c.bundles_desired,
        }
        if c.deployments:
            entry["deployments"] = [_detail(d) for d in c.deployments]
        clusters.append(entry)
    bundles = []
    for b in status.bundles:
        entry = {
            "name": b.name,
            "clustersReady": b.clusters_ready,
            "clustersDesired": b.clusters_desired,
            "state": b.state,
            "summary": b.summary,
            "stateCounts": {s.state: s.count for s in b.state_counts},
            "revision": b.revision,
            "paused": b.paused,
            "pinnedRev": b.pinned_rev,
            "rollout": {
                "state": b.rollout.state,
                "reason": b.rollout.reason,
                "failures": b.rollout.failures,
                "partitions": [
                    {
                        "name": p.name,
                        "count": p.count,
                        "unavailable": p.unavailable,
                        "maxUnavailable": p.max_unavailable,
                        "state": p.state,
                    }
                    for p in b.rollout.partitions
                ],
            },
        }
        if b.deployments:
            entry["deployments"] = [_detail(d) for d in b.deployments]
        bundles.append(entry)
    doc: dict[str, Any] = {
        "clusters": clusters,
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
        "bundles": bundles,
    }
    if status.repos:  # only then: documents of hubs without repositories stay as they were
        doc["repos"] = [repo_dict(r) for r in status.repos]
    return doc


def _when(unix: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix)) if unix else ""


def iso_utc(unix: int) -> str:
    """A time as ISO 8601 UTC (2026-12-02T19:30:00Z); '' for 0 (never)."""
    return _when(unix)


def repo_dict(r: fleet_pb2.Repo) -> dict[str, Any]:
    """A repository in `repo list -o json` and `status -o json`; part of the CLI contract."""
    ref = {"branch": r.spec.branch, "tag": r.spec.tag, "revision": r.spec.revision}
    return {
        "name": r.spec.name,
        "url": r.spec.url,
        **{k: v for k, v in ref.items() if v},
        "paths": list(r.spec.paths),
        "intervalSeconds": r.spec.interval_seconds,
        "secret": r.spec.secret,
        "labels": dict(sorted(r.spec.labels.items())),
        "commit": r.status.commit,
        "lastFetch": _when(r.status.last_fetch_unix),
        "nextFetch": _when(r.status.next_fetch_unix),
        "error": r.status.error,
        "pathErrors": [{"path": e.path, "message": e.message} for e in r.status.path_errors],
        "bundles": list(r.status.bundles),
        "failures": r.status.failures,
    }


def repo_error_text(d: Mapping[str, Any]) -> str:
    """A repository's error for a table: the fetch error, else the first failing path."""
    if d["error"]:
        return str(d["error"]).splitlines()[0]
    errors = d["pathErrors"]
    if not errors:
        return ""
    first = errors[0]
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{first['path']}: {str(first['message']).splitlines()[0]}{more}"


HISTORY_HEADERS = ["REV", "TIME", "SOURCE", "SUMMARY", "CURRENT"]


def revision_dict(r: fleet_pb2.BundleRevision) -> dict[str, Any]:
    """A history entry in `bundle history -o json`; part of the CLI contract."""
    return {
        "rev": r.rev,
        "revision": r.revision,
        "time": _when(r.created_unix),
        "source": r.actor,
        "summary": r.summary,
        "rollbackOf": r.rollback_of,
        "current": r.current,
    }


def history_row(d: Mapping[str, Any]) -> list[Any]:
    source = d["source"] or "-"
    if d["rollbackOf"]:
        source = f"{source} (rollback to {d['rollbackOf']})"
    return [d["rev"], d["time"], source, d["summary"], "*" if d["current"] else ""]


REPO_HEADERS = ["REPO", "COMMIT", "LAST-FETCH", "NEXT-FETCH", "BUNDLES", "ERROR"]


def repo_row(d: Mapping[str, Any]) -> list[Any]:
    return [
        d["name"],
        str(d["commit"])[:12] or "-",
        d["lastFetch"] or "-",
        d["nextFetch"] or "-",
        len(d["bundles"]),
        repo_error_text(d) or "-",
    ]


def _cluster_state(c: fleet_pb2.ClusterStatus) -> str:
    if c.connected or c.state in (WAIT_CHECK_IN, State.OFFLINE):
        return c.state
    return f"{c.state} (disconnected)"


def _bundle_state(b: fleet_pb2.BundleStatus) -> str:
    text = bundle_state_text(b)
    if b.pinned_rev:
        text = f"{text}, Pinned (rev {b.pinned_rev})"
    if b.rollout.state in (ROLLOUT_HALTED, ROLLOUT_PAUSED) or (
        b.rollout.partitions and b.rollout.state == ROLLOUT_PROGRESSING
    ):
        done = sum(1 for p in b.rollout.partitions if p.state == ROLLOUT_COMPLETE)
        parts = f" {done}/{len(b.rollout.partitions)} partitions" if b.rollout.partitions else ""
        text = f"{text} [rollout {b.rollout.state}{parts}]"
    return text


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
            [c.name, labels_text(c.labels), c.bundles_ready, c.bundles_desired, _cluster_state(c)]
            for c in status.clusters
        ],
    )
    bundles = table(
        ["BUNDLE", "CLUSTERS-READY", "CLUSTERS-DESIRED", "STATUS"],
        [[b.name, b.clusters_ready, b.clusters_desired, _bundle_state(b)] for b in status.bundles],
    )
    text = f"{groups}\n\n{clusters}\n\n{bundles}"
    if status.repos:
        text += "\n\n" + table(REPO_HEADERS, [repo_row(repo_dict(r)) for r in status.repos])
    return text


MAX_LINES = 5


def _resource_lines(d: fleet_pb2.DeploymentDetail, *, indent: str = "    ") -> list[str]:
    lines = []
    for r in d.resources[:MAX_LINES]:
        what = "missing" if r.missing else "modified" if r.modified else "not ready"
        lines.append(f"{indent}{r.key} {what}: {r.message}".rstrip(": "))
    if len(d.resources) > MAX_LINES:
        lines.append(f"{indent}... and {len(d.resources) - MAX_LINES} more (-o json for all)")
    return lines


def _detail_rows(details: Any, first: str) -> str:
    out = [
        table(
            [first.upper(), "STATE", "REVISION", "APPLIED", "MESSAGE"],
            [
                [
                    getattr(d, first),
                    d.state + (" (stale)" if d.stale else ""),
                    d.revision[:12],
                    d.applied_revision[:12] or "-",
                    d.message or d.held or "",
                ]
                for d in details
            ],
        )
    ]
    for d in details:
        lines = _resource_lines(d)
        if lines:
            out.append(f"  {getattr(d, first)}:")
            out.extend(lines)
    return "\n".join(out)


def bundle_detail(b: fleet_pb2.BundleStatus) -> str:
    head = table(
        ["BUNDLE", "CLUSTERS-READY", "CLUSTERS-DESIRED", "STATUS"],
        [[b.name, b.clusters_ready, b.clusters_desired, bundle_state_text(b)]],
    )
    parts = [
        head,
        "",
        f"Rollout: {b.rollout.state}" + (f" ({b.rollout.reason})" if b.rollout.reason else ""),
    ]
    if b.paused:
        parts.append("Paused: new revisions are held (argosy unpause to release them)")
    if b.pinned_rev:
        parts.append(
            f"Pinned (rev {b.pinned_rev}) by rollback: new applies and commits are skipped "
            f"(argosy unpin {b.name})"
        )
    if b.rollout.partitions:
        parts.append(
            table(
                ["PARTITION", "COUNT", "UNAVAILABLE", "MAX-UNAVAILABLE", "STATE"],
                [
                    [p.name, p.count, p.unavailable, p.max_unavailable, p.state]
                    for p in b.rollout.partitions
                ],
            )
        )
    parts += ["", _detail_rows(b.deployments, "cluster")]
    return "\n".join(parts)


def cluster_detail(c: fleet_pb2.ClusterStatus) -> str:
    head = table(
        ["CLUSTER", "LABELS", "BUNDLES-READY", "BUNDLES-DESIRED", "STATUS"],
        [[c.name, labels_text(c.labels), c.bundles_ready, c.bundles_desired, _cluster_state(c)]],
    )
    return "\n".join([head, "", _detail_rows(c.deployments, "bundle")])


def dump(data: Any, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, indent=2)
    return yaml.safe_dump(data, sort_keys=False).rstrip()


def emit(data: Any, fmt: str) -> None:
    """Print a document as JSON or YAML."""
    print(dump(data, fmt))


def show(
    data: list[dict[str, Any]],
    fmt: str,
    headers: list[str],
    row: Callable[[dict[str, Any]], list[Any]],
) -> None:
    """A listing: a table for people, the same data as JSON or YAML for programs."""
    if fmt == "text":
        print(table(headers, [row(d) for d in data]))
    else:
        emit(data, fmt)
