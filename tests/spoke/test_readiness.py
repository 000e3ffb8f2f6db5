"""Readiness rules, table-tested on objects captured from a real kube-apiserver (v1.20).

The fixtures come from `python -m tests.k8s.capture KUBECONFIG`; states that a kubelet or a cloud
controller would write (Pod Ready, PVC Bound, load balancer ingress, Job completion) were written
through the status subresource, as those controllers do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from spoke.readiness import IgnoreRule, readiness, without_ignored

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return obj


CASES = [
    ("configmap", True, ""),
    ("namespace", True, ""),
    ("crd_established", True, ""),
    ("deployment_created", False, "updated replicas: 0 of 2"),
    ("deployment_rolling", False, "updated replicas: 1 of 2"),
    ("deployment_ready", True, ""),
    ("replicaset_created", False, "ready replicas: 0 of 2"),
    ("replicaset_ready", True, ""),
    ("statefulset_created", False, "ready replicas: 0 of 2"),
    ("statefulset_ready", True, ""),
    ("daemonset_created", True, ""),  # no nodes: nothing to schedule
    ("daemonset_ready", True, ""),
    ("job_running", False, "job not complete"),
    ("job_complete", True, ""),
    ("job_failed", False, "job failed: Job has reached the specified backoff limit"),
    ("pod_pending", False, "pod not ready"),
    ("pod_ready", True, ""),
    ("pvc_pending", False, "claim is Pending"),
    ("pvc_bound", True, ""),
    ("service_clusterip", True, ""),
    ("service_lb_pending", False, "waiting for a load balancer address"),
    ("service_lb_ready", True, ""),
    ("widget_no_status", True, ""),
    ("widget_not_ready", False, "backend not reachable"),
    ("widget_ready", True, ""),
]


def test_every_fixture_has_a_case() -> None:
    assert sorted(p.stem for p in FIXTURES.glob("*.json")) == sorted(c[0] for c in CASES)


@pytest.mark.parametrize(("name", "ready", "why"), CASES, ids=[c[0] for c in CASES])
def test_readiness_of_real_objects(name: str, ready: bool, why: str) -> None:
    assert readiness(fixture(name)) == (ready, why)


def test_generation_not_yet_observed_is_not_ready() -> None:
    obj = fixture("deployment_ready")
    obj["metadata"]["generation"] = 2
    assert readiness(obj) == (False, "waiting for the controller to observe generation 2")


def test_progress_deadline_exceeded_is_reported() -> None:
    obj = fixture("deployment_created")
    for cond in obj["status"]["conditions"]:
        if cond["type"] == "Progressing":
            cond.update(status="False", reason="ProgressDeadlineExceeded", message="too slow")
    assert readiness(obj) == (False, "too slow")


def test_statefulset_mid_rollout_is_not_ready() -> None:
    obj = fixture("statefulset_ready")
    obj["status"]["updateRevision"] = "db-new"
    assert readiness(obj) == (False, "rolling out revision db-new")


def test_kstatus_stalled_condition_fails_a_custom_resource() -> None:
    obj = fixture("widget_ready")
    obj["status"]["conditions"].append({"type": "Stalled", "status": "True", "message": "stuck"})
    assert readiness(obj) == (False, "stuck")


IGNORE_CASES: list[tuple[str, list[IgnoreRule], tuple[bool, str]]] = [
    ("widget_not_ready", [{"type": "Ready", "status": "False"}], (True, "")),
    ("widget_not_ready", ["Ready"], (True, "")),
    ("widget_not_ready", [{"type": "Ready", "status": "True"}], (False, "backend not reachable")),
    ("widget_not_ready", [{"type": "Ready", "reason": "Waiting"}], (True, "")),
    ("job_failed", [{"type": "Failed"}], (False, "job not complete")),
    ("crd_established", [{"type": "Established"}], (False, "not established")),
]


@pytest.mark.parametrize(("name", "ignore", "verdict"), IGNORE_CASES)
def test_ignore_conditions(name: str, ignore: list[IgnoreRule], verdict: tuple[bool, str]) -> None:
    assert readiness(fixture(name), ignore_conditions=ignore) == verdict


def test_ignoring_leaves_the_object_untouched() -> None:
    obj = fixture("widget_not_ready")
    before = json.dumps(obj, sort_keys=True)
    without_ignored(obj, [{"type": "Ready"}])
    assert json.dumps(obj, sort_keys=True) == before
