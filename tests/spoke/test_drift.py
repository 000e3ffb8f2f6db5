"""Drift against real live objects, and Fleet's diff.comparePatches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from spoke.drift import drift, ignored_paths

FIXTURES = Path(__file__).parent / "fixtures"


def live(name: str) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return obj


def desired_deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "fixtures"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}]},
            },
        },
    }


def test_server_defaults_are_not_drift() -> None:
    assert drift(desired_deployment(), live("deployment_ready")) is None
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "fixtures"},
        "data": {"color": "blue"},
    }
    assert drift(configmap, live("configmap")) is None


def test_an_edit_is_drift_shaped_as_a_merge_patch() -> None:
    edited = live("deployment_ready")
    edited["spec"]["replicas"] = 5
    assert drift(desired_deployment(), edited) == {"spec": {"replicas": 5}}


def test_compare_patches_ignore_paths_of_matching_objects_only() -> None:
    edited = live("deployment_ready")
    edited["spec"]["replicas"] = 5
    edited["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:edited"
    patches: list[dict[str, Any]] = [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": "web",
            "namespace": "fixtures",
            "operations": [{"op": "remove", "path": "/spec/replicas"}],
        },
        {"kind": "Deployment", "jsonPointers": ["/spec/template/spec/containers/0/image"]},
        {"kind": "ConfigMap", "jsonPointers": ["/spec"]},
        # Not a removal: a comparison has nothing to replace, as in Fleet.
        {"kind": "Deployment", "operations": [{"op": "replace", "path": "/metadata"}]},
    ]
    ignore = ignored_paths(patches, desired_deployment())
    assert ignore == ["/spec/replicas", "/spec/template/spec/containers/0/image"]
    assert drift(desired_deployment(), edited, ignore=ignore) is None
    assert drift(desired_deployment(), edited, ignore=ignore[:1]) is not None
    other = {**desired_deployment(), "metadata": {"name": "api", "namespace": "fixtures"}}
    assert ignored_paths(patches[:1], other) == []


def test_json_pointer_escapes() -> None:
    desired = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "x", "annotations": {"example.com/a~b": "1"}},
    }
    edited = json.loads(json.dumps(desired))
    edited["metadata"]["annotations"]["example.com/a~b"] = "2"
    assert drift(desired, edited) is not None
    assert drift(desired, edited, ignore=["/metadata/annotations/example.com~1a~0b"]) is None


def test_canonicalised_quantities_are_not_drift() -> None:
    desired = desired_deployment()
    container = desired["spec"]["template"]["spec"]["containers"][0]
    container["resources"] = {"requests": {"cpu": 0.5, "memory": "0.5Gi"}, "limits": {"cpu": 1}}
    server = live("deployment_ready")
    server["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "requests": {"cpu": "500m", "memory": "512Mi"},
        "limits": {"cpu": "1"},
    }
    assert drift(desired, server) is None
    server["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "2"
    assert drift(desired, server) == {
        "spec": {
            "template": {"spec": {"containers": server["spec"]["template"]["spec"]["containers"]}}
        }
    }


def test_plain_strings_are_not_quantities() -> None:
    desired = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "x"},
        "data": {"v": "1"},
    }
    assert drift(desired, {**desired, "data": {"v": "1.0"}}) == {"data": {"v": "1.0"}}
