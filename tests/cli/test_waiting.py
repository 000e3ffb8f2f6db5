"""The wait's verdicts and its progress lines (pure), and the comparePatches of a diff."""

from __future__ import annotations

import io

import pytest

from argosy.api.v1 import fleet_pb2, resources_pb2
from cli.diffs import compare_patches, existing_patches
from cli.waiting import Progress, duration, failing, verdict


def status(
    ready: int, desired: int, state: str = "NotReady", **kw: object
) -> fleet_pb2.BundleStatus:
    counts = {"Ready": ready, state: desired - ready} if state != "Ready" else {"Ready": ready}
    return fleet_pb2.BundleStatus(
        name="app",
        clusters_ready=ready,
        clusters_desired=desired,
        state=state,
        revision="r2",
        state_counts=[fleet_pb2.StateCount(state=s, count=n) for s, n in counts.items() if n],
        **kw,  # type: ignore[arg-type]
    )


def test_ready_only_when_every_targeted_cluster_is() -> None:
    done = verdict(status(3, 3, "Ready"), name="app", revision="r2")
    assert done.done and not done.failed and done.line == "bundle/app: 3/3 ready, Ready"
    waiting = verdict(status(2, 3, "WaitApplied"), name="app", revision="r2")
    assert not waiting.done and waiting.line == "bundle/app: 2/3 ready, WaitApplied"
    assert not verdict(None, name="app").done
    nothing = verdict(status(0, 0, "Ready"), name="app")
    assert nothing.done and "targets no cluster" in nothing.line


def test_an_error_a_halt_or_a_newer_apply_fails_at_once() -> None:
    err = verdict(status(2, 3, "ErrApplied", summary="ErrApplied: 1 (c2); c2: boom"), name="app")
    assert err.done and err.failed and "c2: boom" in err.line
    # Unchanged content retries failed clusters: their ErrApplied does not end the wait.
    retrying = verdict(
        status(2, 3, "ErrApplied", summary="ErrApplied: 1 (c2); c2: boom"),
        name="app",
        retried=True,
    )
    assert not retrying.done and "ErrApplied" in retrying.line
    halted = status(1, 3, "NotReady")
    halted.rollout.state, halted.rollout.reason = "Halted", "maxFailures 1 reached"
    assert verdict(halted, name="app").failed
    # Someone applied again since: this wait's revision will never be Ready.
    newer = verdict(status(3, 3, "Ready"), name="app", revision="r1")
    assert newer.failed and "r2 was applied since" in newer.line


def test_the_line_names_the_partition_in_progress_and_a_pause() -> None:
    b = status(1, 4, "OutOfSync", paused=True)
    b.rollout.partitions.extend(
        [
            fleet_pb2.PartitionStatus(name="canary", count=1, state="Complete"),
            fleet_pb2.PartitionStatus(name="rest", count=3, unavailable=3, state="Progressing"),
        ]
    )
    line = verdict(b, name="app").line
    assert line == (
        "bundle/app: 1/4 ready, OutOfSync, partition 2/2 rest Progressing (3/3 unavailable), paused"
    )


def test_progress_redraws_in_place_on_a_terminal_and_prints_changes_otherwise() -> None:
    plain = io.StringIO()
    p = Progress(["a", "b"], plain, tty=False)
    p.show({"a": "a 0/1", "b": "b 0/1"})
    p.show({"a": "a 0/1", "b": "b 1/1"})
    p.show({"a": "a 0/1", "b": "b 1/1"})
    assert plain.getvalue() == "a 0/1\nb 0/1\nb 1/1\n"
    tty = io.StringIO()
    p = Progress(["a", "b"], tty, tty=True, width=80)
    p.show({"a": "a 0/1", "b": "b 0/1"})
    p.show({"a": "a 1/1", "b": "b 0/1"})
    assert tty.getvalue() == (
        "\x1b[2Ka 0/1\n\x1b[2Kb 0/1\n" + "\x1b[2F" + "\x1b[2Ka 1/1\n\x1b[2Kb 0/1\n"
    )
    # Cut to the terminal's width, so no line wraps and the redraw stays in place.
    narrow = io.StringIO()
    Progress(["a"], narrow, tty=True, width=30).show({"a": "x" * 100})
    assert narrow.getvalue() == "\x1b[2K" + "x" * 29 + "\n"


def test_failing_names_each_cluster_not_ready_and_why() -> None:
    b = fleet_pb2.BundleStatus(
        deployments=[
            fleet_pb2.DeploymentDetail(cluster="c1", state="Ready"),
            fleet_pb2.DeploymentDetail(cluster="c3", state="OutOfSync", held="paused"),
            fleet_pb2.DeploymentDetail(cluster="c2", state="ErrApplied", message="boom"),
            fleet_pb2.DeploymentDetail(
                cluster="c4",
                state="NotReady",
                resources=[resources_pb2.ResourceState(key="apps/Deployment/d/web", message="0/1")],
            ),
        ]
    )
    assert failing(b) == [
        "c2: ErrApplied: boom",
        "c3: OutOfSync: paused",
        "c4: NotReady: apps/Deployment/d/web: 0/1",
    ]


def test_durations() -> None:
    assert [duration(t) for t in ("90", "90s", "5m", "1h", "500ms", "1.5m")] == [
        90,
        90,
        300,
        3600,
        0.5,
        90,
    ]
    for bad in ("", "5x", "-1s", "0"):
        with pytest.raises(ValueError, match="not a duration"):
            duration(bad)


def test_compare_patches_merge_paths_per_object_across_clusters() -> None:
    def drifted(key: str, *paths: str, missing: bool = False) -> resources_pb2.ResourceState:
        api = "apps/v1" if key.startswith("apps/") else "v1"
        return resources_pb2.ResourceState(
            key=key, modified=True, missing=missing, drift_paths=paths, api_version=api
        )

    resp = fleet_pb2.GetBundleDiffResponse(
        clusters=[
            fleet_pb2.ClusterDiff(
                cluster="c1",
                resources=[
                    drifted("apps/Deployment/shop/web", "/spec/replicas"),
                    drifted("/Namespace//shop", "/metadata/labels/team"),
                ],
            ),
            fleet_pb2.ClusterDiff(
                cluster="c2",
                resources=[
                    drifted("apps/Deployment/shop/web", "/spec/template/spec/containers/0/image"),
                    drifted("apps/Deployment/shop/web", "/spec/replicas"),
                    drifted("/ConfigMap/shop/gone", missing=True),
                ],
            ),
        ]
    )
    assert compare_patches(resp) == [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": "web",
            "namespace": "shop",
            "operations": [
                {"op": "remove", "path": "/spec/replicas"},
                {"op": "remove", "path": "/spec/template/spec/containers/0/image"},
            ],
        },
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "name": "shop",
            "operations": [{"op": "remove", "path": "/metadata/labels/team"}],
        },
    ]


def test_compare_patches_keep_and_merge_into_the_bundles_own() -> None:
    fleet_yaml = (
        b"diff:\n  comparePatches:\n"
        b"  - {apiVersion: v1, kind: ConfigMap, name: a, namespace: default,\n"
        b"     operations: [{op: remove, path: /data/v}], jsonPointers: [/data/x]}\n"
        b"  - {kind: Service, jsonPointers: [/spec/clusterIP]}\n"
    )
    existing = existing_patches({"fleet.yaml": fleet_yaml})
    resp = fleet_pb2.GetBundleDiffResponse(
        clusters=[
            fleet_pb2.ClusterDiff(
                cluster="c1",
                resources=[
                    resources_pb2.ResourceState(
                        key="/ConfigMap/default/a",
                        modified=True,
                        api_version="v1",
                        drift_paths=["/data/w", "/data/x"],
                    )
                ],
            )
        ]
    )
    assert compare_patches(resp, existing) == [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "name": "a",
            "namespace": "default",
            "operations": [
                {"op": "remove", "path": "/data/v"},
                {"op": "remove", "path": "/data/w"},
            ],
            "jsonPointers": ["/data/x"],
        },
        {"kind": "Service", "jsonPointers": ["/spec/clusterIP"]},
    ]
    assert existing_patches({}) == [] and existing_patches({"fleet.yaml": b"paused: true\n"}) == []
