"""The dashboard's pure JSON shaping: rows, filters, pages, the health banner, what rollout
partitions wait on, and needs-attention rows."""

from __future__ import annotations

import json

import pytest

from argosy.api.v1 import fleet_pb2
from hub.dashboard.views import (
    MAX_PAGE,
    BadQuery,
    Query,
    attention_rows,
    bundle_row,
    by_severity,
    cluster_row,
    delta_event,
    events_event,
    events_reset_event,
    health,
    history_rows,
    page,
    parse_query,
    same_origin,
    waits_on,
)
from hub.models import EventRecord, HistoryEntry, ResourceStateRecord
from hub.status.views import DetailView


def _partition(
    name: str, state: str, *, count: int = 2, unavailable: int = 0
) -> fleet_pb2.PartitionStatus:
    return fleet_pb2.PartitionStatus(
        name=name, count=count, unavailable=unavailable, state=state, max_unavailable=1
    )


def test_pending_partitions_wait_on_the_first_unfinished_one() -> None:
    rollout = fleet_pb2.RolloutStatus(
        state="Progressing",
        partitions=[
            _partition("dev", "Complete"),
            _partition("test", "Progressing", unavailable=1),
            _partition("prod", "Pending"),
        ],
    )
    assert waits_on(rollout, paused=False) == [
        "",
        "1 of 2 clusters not Ready (maxUnavailable 1)",
        "partition test",
    ]


def test_a_halted_or_paused_rollout_says_so_on_unfinished_partitions() -> None:
    parts = [_partition("dev", "Complete"), _partition("prod", "Pending")]
    halted = fleet_pb2.RolloutStatus(state="Halted", reason="2 failures", partitions=parts)
    assert waits_on(halted, paused=False) == ["", "rollout halted: 2 failures"]
    progressing = fleet_pb2.RolloutStatus(state="Progressing", partitions=parts)
    assert waits_on(progressing, paused=True) == ["", "bundle paused"]
    baking = fleet_pb2.RolloutStatus(state="Progressing", partitions=[_partition("a", "Baking")])
    assert waits_on(baking, paused=False) == ["bake time (Ready, not yet baked)"]


def test_bundle_row_carries_the_rollout_and_what_it_waits_on() -> None:
    pb = fleet_pb2.BundleStatus(
        name="web",
        clusters_ready=1,
        clusters_desired=2,
        state="Modified",
        state_counts=[fleet_pb2.StateCount(state="Modified", count=1)],
        rollout=fleet_pb2.RolloutStatus(
            state="Progressing", partitions=[_partition("a", "Pending")]
        ),
    )
    row = bundle_row(pb)
    assert row["ready"] == 1 and row["desired"] == 2 and row["counts"] == {"Modified": 1}
    assert row["rollout"]["partitions"][0]["waits_on"] == "earlier partitions"


def test_search_matches_names_labels_and_messages_and_state_filters_exactly() -> None:
    rows = [
        cluster_row(fleet_pb2.ClusterStatus(name="east-1", labels={"env": "prod"}, state="Ready")),
        cluster_row(
            fleet_pb2.ClusterStatus(name="west-2", labels={"env": "dev"}, state="Modified")
        ),
    ]

    def names(q: Query) -> list[str]:
        return [r["name"] for r in page(rows, q)["items"]]

    assert names(Query(q="EAST")) == ["east-1"]
    assert names(Query(q="env=dev")) == ["west-2"]
    assert names(Query(state="Modified")) == ["west-2"]
    assert names(Query(q="env=dev", state="Ready")) == []
    drifted = ResourceStateRecord(key="/ConfigMap/default/app", ready=True, modified=True)
    attention = attention_rows(_view(drifted, message="image pull"), labels={"env": "prod"})
    assert page(attention, Query(q="env=prod"))["total"] == 1
    assert page(attention, Query(q="configmap"))["total"] == 1
    assert page(attention, Query(q="env=dev"))["total"] == 0


def test_pages_slice_and_count_every_match() -> None:
    rows = [{"name": f"c{i:05}", "state": "Ready"} for i in range(10_000)]
    result = page(rows, Query(offset=9_990, limit=50))
    assert result["total"] == 10_000
    assert [r["name"] for r in result["items"]] == [f"c{i:05}" for i in range(9_990, 10_000)]


def test_bad_page_parameters_name_the_parameter() -> None:
    assert parse_query({"offset": "10", "limit": "20", "q": " a "}) == Query("a", "", 10, 20)
    with pytest.raises(BadQuery, match="'limit'"):
        parse_query({"limit": "-1"})
    with pytest.raises(BadQuery, match=f"more than {MAX_PAGE}"):
        parse_query({"limit": str(MAX_PAGE + 1)})


def test_worst_first_then_by_name() -> None:
    rows = [
        {"name": "b", "state": "Ready"},
        {"name": "a", "state": "Ready"},
        {"name": "z", "state": "ErrApplied"},
        {"name": "w", "state": "WaitCheckIn"},
        {"name": "m", "state": "Modified"},
    ]
    assert [r["name"] for r in by_severity(rows)] == ["z", "m", "w", "a", "b"]


def test_health_sums_deployments_and_clusters_by_state() -> None:
    bundles = [{"counts": {"Ready": 2, "Modified": 1}}, {"counts": {"Ready": 3}}]
    clusters = [
        {"state": "Ready", "connected": True},
        {"state": "Offline", "connected": False},
    ]
    assert health(bundles, clusters) == {
        "bundles": 2,
        "clusters": 2,
        "connected": 1,
        "deployments": {"Modified": 1, "Ready": 5},
        "cluster_states": {"Offline": 1, "Ready": 1},
    }


def _view(*resources: ResourceStateRecord, state: str = "Modified", **kw: object) -> DetailView:
    fields: dict[str, object] = {
        "bundle": "web",
        "cluster": "c1",
        "state": state,
        "stale": False,
        "held": "",
        "revision": "r2",
        "applied_revision": "r1",
        "message": "",
        "resources": resources,
    }
    fields.update(kw)
    return DetailView(**fields)  # type: ignore[arg-type]


def test_attention_rows_name_each_resource_that_is_not_right() -> None:
    ok = ResourceStateRecord(key="/ConfigMap/default/ok", ready=True)
    drifted = ResourceStateRecord(
        key="/ConfigMap/default/app", ready=True, modified=True, message='{"data":{"v":"2"}}'
    )
    gone = ResourceStateRecord(key="apps/Deployment/default/web", ready=False, missing=True)
    rows = attention_rows(_view(ok, drifted, gone))
    assert [(r["resource"], r["message"]) for r in rows] == [
        ("configmap default/app", 'modified: {"data":{"v":"2"}}'),
        ("deployment.apps default/web", "missing"),
    ]
    assert attention_rows(_view(ok, state="Ready")) == []
    failed = attention_rows(_view(state="ErrApplied", message="apply failed: denied"))
    assert [(r["resource"], r["message"]) for r in failed] == [("", "apply failed: denied")]
    stale = attention_rows(_view(ok, state="Ready", stale=True))
    assert stale[0]["message"] == "cluster offline; last report is stale"
    assert stale[0]["state"] == "Offline"


def test_writes_need_an_origin_naming_this_server() -> None:
    assert same_origin("https://10.0.0.1:8443", scheme="https", host="10.0.0.1:8443")
    assert not same_origin("", scheme="https", host="10.0.0.1:8443")
    assert not same_origin("http://10.0.0.1:8443", scheme="https", host="10.0.0.1:8443")
    assert not same_origin("https://evil.example", scheme="https", host="10.0.0.1:8443")


def test_an_event_is_one_sse_message_of_json() -> None:
    event = delta_event(
        health_row={"bundles": 1},
        bundles=[{"name": "web"}],
        clusters=["c1"],
        removed_bundles=[],
        removed_clusters=["c9"],
        snapshot=False,
    )
    head, data, end = event.decode().split("\n", 2)
    assert head == "event: status" and end == "\n"
    body = json.loads(data.removeprefix("data: "))
    assert body["clusters"] == ["c1"] and body["removed_clusters"] == ["c9"]


def _entry(rev: int, revision: str, *, rollback_of: int = 0) -> HistoryEntry:
    return HistoryEntry(
        bundle="web",
        rev=rev,
        revision=revision,
        created=1000 + rev,
        actor=f"token/t{rev}",
        summary="1 object: ConfigMap",
        labels={},
        files={},
        rollback_of=rollback_of,
    )


def test_history_rows_are_newest_first_with_current_rollback_and_pin() -> None:
    entries = [_entry(1, "aaa"), _entry(2, "bbb"), _entry(3, "aaa", rollback_of=1)]
    rows = history_rows(entries, current=3, pinned=3)
    assert [r["rev"] for r in rows] == [3, 2, 1]
    assert rows[0] == {
        "rev": 3,
        "revision": "aaa",
        "time": 1003,
        "actor": "token/t3",
        "summary": "1 object: ConfigMap",
        "current": True,
        "rollback_of": 1,
        "pinned": True,
    }
    assert not any(r["current"] or r["pinned"] for r in rows[1:])
    assert all(not r["pinned"] for r in history_rows(entries, current=3, pinned=0))


def _sse(raw: bytes) -> tuple[str, dict[str, object]]:
    kind, data = raw.decode().removesuffix("\n\n").split("\n")
    return kind.removeprefix("event: "), json.loads(data.removeprefix("data: "))


def test_an_events_message_carries_the_newest_of_a_batch_and_counts_the_rest() -> None:
    batch = [
        EventRecord(time=float(i), kind="BundleApplied", bundle="web", seq=i) for i in range(1, 6)
    ]
    kind, data = _sse(events_event(batch, keep=2))
    assert kind == "events"
    assert [e["seq"] for e in data["events"]] == [4, 5]  # type: ignore[attr-defined]
    assert data["omitted"] == 3
    assert _sse(events_event(batch, keep=10))[1]["omitted"] == 0
    kind, data = _sse(events_reset_event())
    assert kind == "events" and data == {"events": [], "omitted": 0, "reset": True}
