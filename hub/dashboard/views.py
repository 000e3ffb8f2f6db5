"""The dashboard's JSON, shaped by pure functions: rows from the status protobufs the
broadcaster already builds, filters, pages, the health banner, what each rollout partition
waits on, and the needs-attention rows of a deployment. No I/O, no state: server.py owns
those and calls these.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from argosy.api.v1 import fleet_pb2
from argosy.manifests import describe_key
from hub.models import EventRecord, HistoryEntry
from hub.rollout import BAKING, COMPLETE, HALTED, PAUSED, PENDING
from hub.states import RANK, READY
from hub.status.views import DetailView

Row = dict[str, Any]

MAX_PAGE = 500
"""Largest page a list route serves: 10,000 clusters are never one response (nor one DOM list)."""
DEFAULT_PAGE = 50


def waits_on(rollout: fleet_pb2.RolloutStatus, *, paused: bool) -> list[str]:
    """What each partition of a rollout waits on, in the partitions' order ('' for none).

    Partitions are gated in order (hub/rollout.py): a Pending one waits for the first earlier
    partition that is not Complete; one that is rolling out waits on its unavailable clusters.
    """
    out: list[str] = []
    blocker = ""
    for p in rollout.partitions:
        if paused or rollout.state == PAUSED:
            text = "" if p.state == COMPLETE else "bundle paused"
        elif rollout.state == HALTED and p.state != COMPLETE:
            text = f"rollout halted: {rollout.reason}" if rollout.reason else "rollout halted"
        elif p.state == COMPLETE:
            text = ""
        elif p.state == PENDING:
            text = f"partition {blocker}" if blocker else "earlier partitions"
        elif p.state == BAKING:
            text = "bake time (Ready, not yet baked)"
        elif p.count == 0:
            text = ""
        else:
            text = (
                f"{p.unavailable} of {p.count} clusters not Ready "
                f"(maxUnavailable {p.max_unavailable})"
            )
        if not blocker and p.state != COMPLETE:
            blocker = p.name
        out.append(text)
    return out


def bundle_row(pb: fleet_pb2.BundleStatus) -> Row:
    """One bundle as the page shows it (the broadcaster's enriched BundleStatus)."""
    waits = waits_on(pb.rollout, paused=pb.paused)
    return {
        "name": pb.name,
        "ready": pb.clusters_ready,
        "desired": pb.clusters_desired,
        "state": pb.state or READY,
        "summary": pb.summary,
        "revision": pb.revision,
        "paused": pb.paused,
        "pinned": pb.pinned_rev,
        "counts": {c.state: c.count for c in pb.state_counts},
        "rollout": {
            "state": pb.rollout.state,
            "reason": pb.rollout.reason,
            "failures": pb.rollout.failures,
            "partitions": [
                {
                    "name": p.name,
                    "count": p.count,
                    "unavailable": p.unavailable,
                    "max_unavailable": p.max_unavailable,
                    "state": p.state,
                    "waits_on": w,
                }
                for p, w in zip(pb.rollout.partitions, waits, strict=True)
            ],
        },
    }


def cluster_row(pb: fleet_pb2.ClusterStatus) -> Row:
    return {
        "name": pb.name,
        "labels": dict(sorted(pb.labels.items())),
        "state": pb.state,
        "ready": pb.bundles_ready,
        "desired": pb.bundles_desired,
        "connected": pb.connected,
        "offline": pb.offline,
    }


@dataclass(frozen=True)
class Query:
    """A list request: search text, a state filter and a page. Built from URL parameters by
    `parse_query`, which names the parameter at fault."""

    q: str = ""
    state: str = ""
    offset: int = 0
    limit: int = DEFAULT_PAGE


class BadQuery(ValueError):
    """A list request's parameter is not what it should be (a 400 naming the parameter)."""


def parse_query(params: Mapping[str, str]) -> Query:
    def number(name: str, default: int, top: int) -> int:
        text = params.get(name, "")
        if not text:
            return default
        if not text.isdigit():
            raise BadQuery(f"parameter {name!r}: {text!r} is not a non-negative integer")
        value = int(text)
        if value > top:
            raise BadQuery(f"parameter {name!r}: {value} is more than {top}")
        return value

    return Query(
        q=params.get("q", "").strip(),
        state=params.get("state", "").strip(),
        offset=number("offset", 0, 10**9),
        limit=number("limit", DEFAULT_PAGE, MAX_PAGE),
    )


def matches(row: Row, query: Query) -> bool:
    """Search is a case-insensitive substring of the name, a label (`key=value`) or, for
    needs-attention rows, the bundle, resource and message; the state filter is exact."""
    if query.state and row.get("state") != query.state:
        return False
    if not query.q:
        return True
    needle = query.q.lower()
    haystack = [str(row.get(k, "")) for k in ("name", "bundle", "cluster", "resource", "message")]
    haystack += [f"{k}={v}" for k, v in row.get("labels", {}).items()]
    return any(needle in h.lower() for h in haystack)


def page(rows: Iterable[Row], query: Query) -> Row:
    """The rows matching `query`, one page of them, and how many matched in all."""
    matched = [r for r in rows if matches(r, query)]
    return {
        "total": len(matched),
        "offset": query.offset,
        "limit": query.limit,
        "items": matched[query.offset : query.offset + query.limit],
    }


def severity(state: str) -> float:
    """A state's place in a list, worst first (argosy.states.ORDER); a cluster's own states
    (WaitCheckIn) just before Ready."""
    return RANK.get(state, RANK[READY] - 0.5)


def by_severity(rows: Iterable[Row]) -> list[Row]:
    """Worst state first, then by name: what needs a look comes to the top of the first page."""
    return sorted(rows, key=lambda r: (severity(r["state"]), r["name"]))


def health(bundles: Iterable[Row], clusters: Iterable[Row]) -> Row:
    """The banner: deployments by state (summed over bundles) and clusters by state."""
    deployments: Counter[str] = Counter()
    bundle_count = 0
    for b in bundles:
        bundle_count += 1
        deployments.update(b["counts"])
    cluster_states: Counter[str] = Counter()
    connected = 0
    for c in clusters:
        cluster_states[c["state"]] += 1
        connected += bool(c["connected"])
    return banner(
        bundles=bundle_count,
        deployments=deployments,
        cluster_states=cluster_states,
        connected=connected,
    )


def banner(
    *,
    bundles: int,
    deployments: Mapping[str, int],
    cluster_states: Mapping[str, int],
    connected: int,
) -> Row:
    """The banner from counts already summed (model.py keeps them as rows change); states
    whose count is zero are left out."""
    return {
        "bundles": bundles,
        "clusters": sum(cluster_states.values()),
        "connected": connected,
        "deployments": dict(
            sorted(((s, n) for s, n in deployments.items() if n), key=_state_order)
        ),
        "cluster_states": dict(
            sorted(((s, n) for s, n in cluster_states.items() if n), key=_state_order)
        ),
    }


def _state_order(item: tuple[str, int]) -> tuple[float, str]:
    return severity(item[0]), item[0]


def attention_rows(view: DetailView, *, labels: Mapping[str, str] | None = None) -> list[Row]:
    """A deployment's rows for the needs-attention list: one per resource that is missing,
    modified or not ready, or one for the whole deployment when it has a message but no such
    resource (a render or apply error, a held revision, an offline cluster)."""
    # Offline, the detail's state is the last known one; what needs attention is the offline.
    state = "Offline" if view.stale else view.state
    base = {
        "bundle": view.bundle,
        "cluster": view.cluster,
        "state": state,
        # The cluster's labels: a search for env=prod finds its rows here too.
        "labels": dict(sorted((labels or {}).items())),
    }
    rows = []
    for r in view.resources:
        if r.missing:
            what = "missing"
        elif r.modified:
            what = "modified"
        elif not r.ready:
            what = "not ready"
        else:
            continue
        message = f"{what}: {r.message}" if r.message else what
        rows.append({**base, "resource": describe_key(r.key), "message": message})
    if rows:
        return rows
    message = (
        view.message or view.held or ("cluster offline; last report is stale" if view.stale else "")
    )
    if view.state == READY and not view.stale and not message:
        return []
    return [{**base, "resource": "", "message": message or view.state}]


def deployment_row(view: DetailView, *, labels: Mapping[str, str]) -> Row:
    """One cluster's deployment of a bundle, for the bundle's page (searchable by the
    cluster's labels, as the clusters list is)."""
    return {
        "name": view.cluster,
        "cluster": view.cluster,
        "labels": dict(sorted(labels.items())),
        "state": view.state,
        "stale": view.stale,
        "held": view.held,
        "revision": view.revision,
        "applied_revision": view.applied_revision,
        "message": view.message,
        "resources": [
            {
                "resource": describe_key(r.key),
                "ready": r.ready,
                "modified": r.modified,
                "missing": r.missing,
                "message": r.message,
            }
            for r in view.resources
            if r.missing or r.modified or not r.ready
        ],
        "resource_count": len(view.resources),
    }


def same_origin(origin: str, *, scheme: str, host: str) -> bool:
    """Whether a POST's Origin header names this server (an absent Origin fails: browsers
    send one with every POST, so only a non-browser omits it, and it has no cookie to abuse
    unless it was given the token anyway)."""
    return bool(origin) and origin == f"{scheme}://{host}"


def delta_event(
    *,
    health_row: Row,
    bundles: Sequence[Row],
    clusters: Sequence[str],
    removed_bundles: Sequence[str],
    removed_clusters: Sequence[str],
    snapshot: bool,
) -> bytes:
    """One Server-Sent Event, serialised once and written to every browser as is. Bundles
    travel whole (there are few); clusters by name only: the page re-fetches its visible page
    when one of them is on it, so 10,000 changed clusters are not 10,000 rows per browser."""
    data = json.dumps(
        {
            "snapshot": snapshot,
            "health": health_row,
            "bundles": list(bundles),
            "clusters": list(clusters),
            "removed_bundles": list(removed_bundles),
            "removed_clusters": list(removed_clusters),
        },
        separators=(",", ":"),
    )
    return f"event: status\ndata: {data}\n\n".encode()


def history_rows(entries: Sequence[HistoryEntry], *, current: int, pinned: int) -> list[Row]:
    """A bundle's stored history for its page, newest first: what `argosy bundle history`
    shows (rev, time, actor, summary, which one runs now, what a rollback went back to), and
    which rev a rollback pinned."""
    return [
        {
            "rev": e.rev,
            "revision": e.revision,
            "time": e.created,
            "actor": e.actor,
            "summary": e.summary,
            "current": e.rev == current,
            "rollback_of": e.rollback_of,
            "pinned": e.rev == pinned,
        }
        for e in reversed(entries)
    ]


def event_row(event: EventRecord) -> Row:
    return {
        "seq": event.seq,
        "time": event.time,
        "kind": event.kind,
        "bundle": event.bundle,
        "cluster": event.cluster,
        "revision": event.revision,
        "actor": event.actor,
        "message": event.message,
    }


def events_event(events: Sequence[EventRecord], *, keep: int) -> bytes:
    """One Server-Sent Event for a batch of the event log's newest events, serialised once
    for every browser. A batch can be tens of thousands of state changes (a rollout to
    10,000 clusters): only its newest `keep` travel, and `omitted` tells a page that wants
    more (a bundle's page whose events were cut) to fetch them from /api/events."""
    kept = events[-keep:] if keep else []
    data = json.dumps(
        {"events": [event_row(e) for e in kept], "omitted": len(events) - len(kept)},
        separators=(",", ":"),
    )
    return f"event: events\ndata: {data}\n\n".encode()


def events_reset_event() -> bytes:
    """The dashboard's feed of the event log was dropped and resubscribed: pages fetch their
    recent events afresh rather than trust a feed that may have a gap."""
    return b'event: events\ndata: {"events":[],"omitted":0,"reset":true}\n\n'
