"""spoke.desired (pure): where a manifest's object lands, and how a live object stands."""

from __future__ import annotations

import json
from typing import Any

from argosy.options import ApplyOptions, json_list
from spoke.desired import MISSING, crd_scopes, judge, place
from tests.spoke.test_drift import desired_deployment, live


def manifest(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj).encode()


def namespaced_except_namespaces(api_version: str, kind: str) -> bool:
    del api_version
    return kind != "Namespace"


def crd(kind: str, scope: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{kind.lower()}s.example.com"},
        "spec": {"group": "example.com", "names": {"kind": kind}, "scope": scope},
    }


def test_crds_in_the_bundle_say_the_scope_of_their_kinds() -> None:
    resources = {
        "apiextensions.k8s.io/CustomResourceDefinition//gadgets.example.com": (
            "h1",
            manifest(crd("Gadget", "Cluster")),
        ),
        "apiextensions.k8s.io/CustomResourceDefinition//widgets.example.com": (
            "h2",
            manifest(crd("Widget", "Namespaced")),
        ),
        "/ConfigMap//c": ("h3", manifest({"kind": "ConfigMap", "spec": {"group": "x"}})),
    }
    assert crd_scopes(resources) == {
        ("example.com", "Gadget"): False,
        ("example.com", "Widget"): True,
    }


def test_a_namespaced_object_without_namespace_gets_the_default_and_others_are_kept() -> None:
    def put(obj: dict[str, Any], scopes: dict[tuple[str, str], bool] | None = None) -> Any:
        return place(
            manifest(obj),
            default_namespace="apps",
            scopes=scopes or {},
            is_namespaced=namespaced_except_namespaces,
        )["metadata"]

    assert put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}) == {
        "name": "c",
        "namespace": "apps",
    }
    assert put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "x"}}) == {
        "namespace": "x"
    }
    assert put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}) == {
        "name": "n"
    }
    # The cluster does not know Gadget yet (it would guess namespaced): the bundle's CRD says.
    gadget = {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g"}}
    assert put(gadget, {("example.com", "Gadget"): False}) == {"name": "g"}
    assert put(gadget) == {"name": "g", "namespace": "apps"}


def test_judge_missing_ready_and_drifted() -> None:
    assert judge(desired_deployment(), None, ApplyOptions()) == MISSING
    ready = judge(desired_deployment(), live("deployment_ready"), ApplyOptions())
    assert (ready.ready, ready.modified, ready.missing) == (True, False, False)
    edited = live("deployment_ready")
    edited["spec"]["replicas"] = 5
    drifted = judge(desired_deployment(), edited, ApplyOptions())
    assert drifted.modified and json.loads(drifted.message) == {"spec": {"replicas": 5}}
    assert drifted.drift_paths == ("/spec/replicas",)
    assert "+  replicas: 5" in drifted.drift_diff
    assert ready.drift_paths == () and ready.drift_diff == ""


def test_judge_honours_compare_patches_and_ignored_conditions() -> None:
    edited = live("deployment_ready")
    edited["spec"]["replicas"] = 5
    patches = json_list([{"kind": "Deployment", "jsonPointers": ["/spec/replicas"]}])
    assert not judge(
        desired_deployment(), edited, ApplyOptions(compare_patches_json=patches)
    ).modified
    widget = live("widget_not_ready")  # its Ready condition is False
    assert not judge(widget, widget, ApplyOptions()).ready
    ignore = json_list([{"type": "Ready", "status": "False"}])
    assert judge(widget, widget, ApplyOptions(ignore_conditions_json=ignore)).ready


def test_a_drifted_secret_is_reported_without_its_values() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"p": "b2xk"},
    }
    edited = json.loads(json.dumps(secret))
    edited["data"]["p"] = "bmV3c2VjcmV0"
    state = judge(secret, edited, ApplyOptions())
    assert state.modified and state.drift_paths == ("/data/p",)
    assert "bmV3c2VjcmV0" not in state.message and "b2xk" not in state.drift_diff
    assert "redacted" in json.loads(state.message)["data"]["p"]
