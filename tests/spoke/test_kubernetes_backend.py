"""The Kubernetes backend's pure parts: discovery parsing, apply bodies, paths."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from spoke.backends.base import DEPLOYMENT_ANNOTATION, OWNER_LABEL, Ownership
from spoke.backends.kube_discovery import (
    ApiResource,
    Discovery,
    parse_resource_list,
    preferred_versions,
    resources_of_crd,
)
from spoke.backends.kubernetes import KubernetesBackend, _applyable

FIXTURES = Path(__file__).parent / "fixtures"

CORE = {
    "kind": "APIResourceList",
    "groupVersion": "v1",
    "resources": [
        {"name": "configmaps", "namespaced": True, "kind": "ConfigMap"},
        {"name": "namespaces", "namespaced": False, "kind": "Namespace"},
        {"name": "pods/status", "namespaced": True, "kind": "Pod"},
    ],
}
GROUPS = {
    "groups": [
        {
            "name": "autoscaling",
            "versions": [{"groupVersion": "autoscaling/v1", "version": "v1"}],
            "preferredVersion": {"groupVersion": "autoscaling/v1", "version": "v1"},
        }
    ]
}


def test_discovery_answers_scope_and_paths() -> None:
    d = Discovery()
    hpa = [
        ApiResource("autoscaling", v, "HorizontalPodAutoscaler", "horizontalpodautoscalers", True)
        for v in ("v1", "v2beta2")
    ]
    d.replace(parse_resource_list(CORE) + hpa, preferred_versions(GROUPS))
    assert d.is_namespaced("v1", "ConfigMap") is True
    assert d.is_namespaced("v1", "Namespace") is False
    assert d.is_namespaced("example.com/v1", "Widget") is None
    assert d.lookup("v1", "Pod") is None  # subresources are not kinds
    pref = d.for_group_kind("autoscaling", "HorizontalPodAutoscaler")
    assert pref is not None and pref.version == "v1"
    cm = d.lookup("v1", "ConfigMap")
    assert cm is not None
    assert cm.path(namespace="a b", name="x") == "/api/v1/namespaces/a%20b/configmaps/x"
    assert hpa[1].path() == "/apis/autoscaling/v2beta2/horizontalpodautoscalers"


def test_a_crd_teaches_its_kind_before_discovery_knows_it() -> None:
    crd = json.loads((FIXTURES / "crd_established.json").read_text())
    d = Discovery()
    d.learn(resources_of_crd(crd))
    widget = d.lookup("fixtures.example.com/v1", "Widget")
    assert widget == ApiResource("fixtures.example.com", "v1", "Widget", "widgets", True)
    d.replace([], {})  # a later full discovery without it keeps what CRDs taught
    assert d.is_namespaced("fixtures.example.com/v1", "Widget") is True


def test_unknown_kinds_count_as_namespaced() -> None:
    assert KubernetesBackend().is_namespaced("example.com/v1", "Widget") is True


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
    body = _applyable(obj, owner=Ownership("b", "b/c1"), namespaced=True)
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
    deploy = json.loads((FIXTURES / "deployment_ready.json").read_text())
    deploy["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": 8080}]
    body = _applyable(deploy, owner=Ownership("b", "b/c"), namespaced=True)
    container = body["spec"]["template"]["spec"]["containers"][0]
    assert container["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n", "namespace": "x"}}
    assert (
        "namespace" not in _applyable(ns, owner=Ownership("b", "b/c"), namespaced=False)["metadata"]
    )
