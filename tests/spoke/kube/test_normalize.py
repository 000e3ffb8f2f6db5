"""The apply body (pure): ownership stamped in, server fields out, old servers' spellings."""

from __future__ import annotations

import copy
import json
from typing import Any

from spoke.backends.base import DEPLOYMENT_ANNOTATION, OWNER_LABEL, Ownership
from spoke.backends.kube.normalize import applyable, default_protocols, quantities_as_strings
from tests.spoke.kube.fakes import FIXTURES

OWNER = Ownership("b", "b/c")


def deployment() -> dict[str, Any]:
    deploy: dict[str, Any] = json.loads((FIXTURES / "deployment_ready.json").read_text())
    return deploy


def test_apply_body_stamps_ownership_and_drops_server_fields() -> None:
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "web",
            "namespace": "x",
            "labels": {"app": "web"},
            "resourceVersion": "7",
            "uid": "u",
        },
        "spec": {"ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]},
        "status": {"loadBalancer": {}},
    }
    body = applyable(obj, owner=Ownership("b", "b/c1"), namespaced=True)
    assert body["metadata"] == {
        "name": "web",
        "namespace": "x",
        "labels": {"app": "web", OWNER_LABEL: "b"},
        "annotations": {DEPLOYMENT_ANNOTATION: "b/c1"},
    }
    assert "status" not in body
    # Kubernetes < 1.21 rejects apply of ports without their `protocol` key.
    assert body["spec"]["ports"] == [
        {"port": 80, "protocol": "TCP"},
        {"port": 53, "protocol": "UDP"},
    ]
    assert obj["spec"]["ports"][0] == {"port": 80}  # the input is not modified


def test_apply_body_defaults_container_port_protocols_and_drops_cluster_namespace() -> None:
    deploy = deployment()
    deploy["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": 8080}]
    body = applyable(deploy, owner=OWNER, namespaced=True)
    container = body["spec"]["template"]["spec"]["containers"][0]
    assert container["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n", "namespace": "x"}}
    assert "namespace" not in applyable(ns, owner=OWNER, namespaced=False)["metadata"]


def test_apply_body_writes_numeric_quantities_as_strings() -> None:
    deploy = deployment()
    pod = deploy["spec"]["template"]["spec"]
    pod["containers"][0]["resources"] = {"limits": {"cpu": 1}, "requests": {"cpu": 0.5}}
    pod["volumes"] = [{"name": "scratch", "emptyDir": {"sizeLimit": 1000, "medium": "Memory"}}]
    body = applyable(deploy, owner=OWNER, namespaced=True)
    out = body["spec"]["template"]["spec"]
    assert out["containers"][0]["resources"] == {"limits": {"cpu": "1"}, "requests": {"cpu": "0.5"}}
    assert out["volumes"][0]["emptyDir"] == {"sizeLimit": "1000", "medium": "Memory"}
    assert pod["containers"][0]["resources"]["limits"] == {"cpu": 1}  # input untouched
    # Custom resources are left exactly as written: their schema is theirs.
    widget = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "n"},
        "spec": {"template": {"spec": {"containers": [{"resources": {"limits": {"cpu": 1}}}]}}},
    }
    assert applyable(widget, owner=OWNER, namespaced=True)["spec"] == widget["spec"]


def test_cronjob_init_containers_get_protocols_and_string_quantities() -> None:
    cronjob: dict[str, Any] = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "spec": {
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {
                            "initContainers": [
                                {"ports": [{"containerPort": 9}], "resources": {"limits": {"m": 2}}}
                            ]
                        }
                    }
                }
            }
        },
    }
    default_protocols(cronjob)
    quantities_as_strings(cronjob)
    init = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["initContainers"][0]
    assert init == {
        "ports": [{"containerPort": 9, "protocol": "TCP"}],
        "resources": {"limits": {"m": "2"}},
    }


def test_quantities_of_claims_quotas_and_limit_ranges_become_strings_but_booleans_stay() -> None:
    claim: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "spec": {"resources": {"requests": {"storage": 10}}},
    }
    quota: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "spec": {"hard": {"pods": 4, "x": True}},
    }
    limits: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "spec": {"limits": [{"max": {"cpu": 2}, "defaultRequest": {"cpu": 0.1}}]},
    }
    for obj in (claim, quota, limits):
        quantities_as_strings(obj)
    assert claim["spec"]["resources"] == {"requests": {"storage": "10"}}
    assert quota["spec"]["hard"] == {"pods": "4", "x": True}
    assert limits["spec"]["limits"] == [{"max": {"cpu": "2"}, "defaultRequest": {"cpu": "0.1"}}]


def test_kinds_without_these_rules_are_left_alone() -> None:
    # Only the core Service has ports keyed by protocol; a custom "Service" is its own schema.
    custom = {"apiVersion": "example.com/v1", "kind": "Service", "spec": {"ports": [{"port": 1}]}}
    quota = {"apiVersion": "example.com/v1", "kind": "ResourceQuota", "spec": {"hard": {"a": 1}}}
    before = copy.deepcopy([custom, quota])
    for obj in (custom, quota):
        default_protocols(obj)
        quantities_as_strings(obj)
    assert [custom, quota] == before
