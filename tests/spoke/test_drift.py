"""Drift against real live objects, and Fleet's diff.comparePatches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from spoke.drift import drift, explain, ignored_paths

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


def test_explain_names_the_paths_that_silence_the_drift() -> None:
    edited = live("deployment_ready")
    edited["spec"]["replicas"] = 5
    edited["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:edited"
    desired = desired_deployment()
    explained = explain(desired, edited)
    assert explained.paths == ("/spec/replicas", "/spec/template/spec/containers/0/image")
    # Exactly these paths, as comparePatches, make the object in sync again.
    assert drift(desired, edited, ignore=explained.paths) is None
    assert drift(desired, edited, ignore=explained.paths[:1]) is not None
    # The diff shows the fields the bundle sets, desired then live; no server defaults.
    assert "-  replicas: 2\n+  replicas: 5\n" in explained.diff
    assert "+      - image: busybox:edited" in explained.diff
    assert explained.diff.startswith("--- desired\n+++ live\n")
    assert "status" not in explained.diff and "resourceVersion" not in explained.diff


def test_explain_names_a_list_that_changed_length_or_holds_scalars_whole() -> None:
    desired = desired_deployment()
    edited = json.loads(json.dumps(desired))
    edited["spec"]["template"]["spec"]["containers"].append({"name": "extra", "image": "x"})
    assert explain(desired, edited).paths == ("/spec/template/spec/containers",)
    desired["spec"]["template"]["spec"]["containers"][0]["args"] = ["a", "b"]
    edited = json.loads(json.dumps(desired))
    edited["spec"]["template"]["spec"]["containers"][0]["args"] = ["a", "c"]
    explained = explain(desired, edited)
    assert explained.paths == ("/spec/template/spec/containers/0/args",)
    assert drift(desired, edited, ignore=explained.paths) is None


def test_explain_escapes_keys_and_names_removed_fields() -> None:
    desired = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "x", "annotations": {"example.com/a~b": "1"}},
        "data": {"k": "v", "gone": "here"},
    }
    edited = json.loads(json.dumps(desired))
    edited["metadata"]["annotations"]["example.com/a~b"] = "2"
    del edited["data"]["gone"]
    explained = explain(desired, edited)
    assert explained.paths == ("/metadata/annotations/example.com~1a~0b", "/data/gone")
    assert drift(desired, edited, ignore=explained.paths) is None


def test_explain_bounds_the_diff_and_hides_secret_values() -> None:
    desired = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "x"},
        "data": {f"k{i}": "v" * 50 for i in range(200)},
    }
    edited = json.loads(json.dumps(desired))
    edited["data"] = {k: "w" * 50 for k in desired["data"]}
    explained = explain(desired, edited, max_bytes=1024)
    assert len(explained.diff.encode()) < 1100
    assert "truncated" in explained.diff
    assert len(explained.paths) == 200
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"p": "b2xk"},
    }
    leaked = json.loads(json.dumps(secret))
    leaked["data"]["p"] = "bmV3c2VjcmV0"
    explained = explain(secret, leaked)
    assert explained.paths == ("/data/p",)
    assert "b2xk" not in explained.diff and "bmV3c2VjcmV0" not in explained.diff
    # No hash of the values either: a weak one is guessed offline from it.
    assert "-  p: (redacted)\n" in explained.diff
    assert "+  p: (redacted, differs)\n" in explained.diff
    assert "sha256" not in explained.diff
