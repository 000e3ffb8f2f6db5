"""Apply conflicts on fields the bundle does not compare (comparePatches) are left to the
manager that took them (pure parts: the conflict's fields, their pointers, the body without)."""

from __future__ import annotations

import json
from typing import Any

from spoke.backends.kube.client import conflict_fields
from spoke.backends.kube.normalize import field_pointer, without, yielded


def deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "annotations": {"example.com/team": "a", "x": "1"}},
        "spec": {
            "replicas": 2,
            "template": {
                "spec": {
                    "containers": [
                        {"name": "side", "image": "s:1"},
                        {"name": "web", "image": "w:1", "ports": [{"containerPort": 80}]},
                    ]
                }
            },
        },
    }


def test_conflict_fields_come_from_the_status_causes() -> None:
    status = {
        "kind": "Status",
        "code": 409,
        "reason": "Conflict",
        "details": {
            "causes": [
                {"reason": "FieldManagerConflict", "field": ".data.color", "message": "..."},
                {"reason": "FieldValueInvalid", "field": ".data.size"},
            ]
        },
    }
    assert conflict_fields(json.dumps(status).encode()) == (".data.color",)
    assert conflict_fields(b"not json") == ()
    assert conflict_fields(b"[]") == ()


def test_field_pointers_follow_names_with_dots_and_list_items_by_key() -> None:
    body = deployment()
    assert field_pointer(body, ".spec.replicas") == "/spec/replicas"
    assert field_pointer(body, ".metadata.annotations.example.com/team") == (
        "/metadata/annotations/example.com~1team"
    )
    assert field_pointer(body, '.spec.template.spec.containers[name="web"].image') == (
        "/spec/template/spec/containers/1/image"
    )
    assert field_pointer(
        body, '.spec.template.spec.containers[name="web"].ports[containerPort=80]'
    ) == ("/spec/template/spec/containers/1/ports/0")
    assert field_pointer(body, ".spec.template.spec.containers[0].image") == (
        "/spec/template/spec/containers/0/image"
    )
    assert field_pointer(body, ".spec.paused") is None
    assert field_pointer(body, '.spec.template.spec.containers[name="db"].image') is None
    assert field_pointer(body, '.spec.template.spec.containers[="x"]') is None


def test_yielded_only_when_every_conflicting_field_is_not_compared() -> None:
    body = deployment()
    image = '.spec.template.spec.containers[name="web"].image'
    paths = ["/spec/replicas", "/spec/template/spec/containers/1"]
    assert yielded(body, [".spec.replicas", image], paths) == [
        "/spec/replicas",
        "/spec/template/spec/containers/1/image",
    ]
    # One field outside the paths: the conflict stands, nothing is yielded.
    assert yielded(body, [".spec.replicas", ".metadata.annotations.x"], paths) is None
    assert yielded(body, [".spec.replicas"], []) is None
    assert yielded(body, [], paths) is None
    # A path is a prefix by whole tokens: /spec/rep does not cover /spec/replicas.
    assert yielded(body, [".spec.replicas"], ["/spec/rep"]) is None


def test_without_removes_the_yielded_fields_and_leaves_the_input() -> None:
    body = deployment()
    out = without(body, ["/spec/replicas", "/spec/template/spec/containers/1/image"])
    assert "replicas" not in out["spec"]
    assert out["spec"]["template"]["spec"]["containers"][1] == {
        "name": "web",
        "ports": [{"containerPort": 80}],
    }
    assert body == deployment()
    # Items of one list, removed deepest first: neither removal shifts the other.
    two = without(body, ["/spec/template/spec/containers/0", "/spec/template/spec/containers/1"])
    assert two["spec"]["template"]["spec"]["containers"] == []
