"""The Kubernetes backend's pure parts: discovery parsing, apply bodies, paths."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator
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
from spoke.backends.kubernetes import ApiError, KubernetesBackend, _applyable

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


def test_the_backend_counts_changes_to_the_served_kinds() -> None:
    """A CRD applied by any bundle, or a discovery refresh that finds new kinds, bumps
    `kinds`, which makes the spoke retry its errored deployments; nothing new, no bump."""
    kube = KubernetesBackend()
    crd = json.loads((FIXTURES / "crd_established.json").read_text())
    kube.discovery.replace(parse_resource_list(CORE), {})
    assert kube.kinds.value == 1
    kube.discovery.replace(parse_resource_list(CORE), {})
    assert kube.kinds.value == 1
    kube.discovery.learn(resources_of_crd(crd))
    assert kube.kinds.value == 2
    kube.discovery.learn(resources_of_crd(crd))
    kube.discovery.replace(parse_resource_list(CORE), {})  # keeps what the CRD taught
    assert kube.kinds.value == 2


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


class ScriptedBackend(KubernetesBackend):
    """Answers list and watch requests from a script instead of an API server."""

    def __init__(self, lists: list[dict[str, Any]], watches: list[list[tuple[str, Any]]]) -> None:
        super().__init__()
        self.lists = lists
        self.watches = watches
        self.watched_from: list[str] = []
        self.done = asyncio.Event()

    async def request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        assert (method, path) == ("GET", "/api/v1/configmaps")
        assert kwargs["query"] == [("labelSelector", OWNER_LABEL)]
        return self.lists.pop(0)

    async def _stream(
        self, path: str, *, query: Any, resource_version: str
    ) -> AsyncGenerator[tuple[str, dict[str, Any]]]:
        self.watched_from.append(resource_version)
        if not self.watches:
            self.done.set()
            await asyncio.Event().wait()
        for event in self.watches.pop(0):
            if event[0] == "GONE":
                raise ApiError(410, "too old resource version")
            yield event


def cm(name: str, rv: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "n", "resourceVersion": rv}}


async def test_watch_resumes_from_its_resource_version_and_relists_on_410() -> None:
    backend = ScriptedBackend(
        lists=[
            {"metadata": {"resourceVersion": "10"}, "items": [cm("a", "5"), cm("b", "6")]},
            # After 410 Gone: "b" was deleted while nobody watched.
            {"metadata": {"resourceVersion": "30"}, "items": [cm("a", "25")]},
        ],
        watches=[
            [("MODIFIED", {"apiVersion": "v1", "kind": "ConfigMap", **cm("a", "11")})],
            [("BOOKMARK", {"metadata": {"resourceVersion": "20"}})],
            [("GONE", {})],
        ],
    )
    backend._use(ApiResource("", "v1", "ConfigMap", "configmaps", True))
    events: list[tuple[str, str | None]] = []

    async def consume() -> None:
        async for event in backend.watch():
            rv = None if event.obj is None else event.obj["metadata"]["resourceVersion"]
            events.append((event.key, rv))

    task = asyncio.create_task(consume())
    await asyncio.wait_for(backend.done.wait(), 5)
    await asyncio.sleep(0)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    # Resumed from the list, then from each event / bookmark; relisted after 410.
    assert backend.watched_from == ["10", "11", "20", "30"]
    assert events == [
        ("/ConfigMap/n/a", "5"),
        ("/ConfigMap/n/b", "6"),
        ("/ConfigMap/n/a", "11"),
        ("/ConfigMap/n/a", "25"),
        ("/ConfigMap/n/b", None),
    ]


def test_apply_body_writes_numeric_quantities_as_strings() -> None:
    deploy = json.loads((FIXTURES / "deployment_ready.json").read_text())
    pod = deploy["spec"]["template"]["spec"]
    pod["containers"][0]["resources"] = {"limits": {"cpu": 1}, "requests": {"cpu": 0.5}}
    pod["volumes"] = [{"name": "scratch", "emptyDir": {"sizeLimit": 1000, "medium": "Memory"}}]
    body = _applyable(deploy, owner=Ownership("b", "b/c"), namespaced=True)
    out = body["spec"]["template"]["spec"]
    assert out["containers"][0]["resources"] == {"limits": {"cpu": "1"}, "requests": {"cpu": "0.5"}}
    assert out["volumes"][0]["emptyDir"] == {"sizeLimit": "1000", "medium": "Memory"}
    # Custom resources are left exactly as written: their schema is theirs.
    widget = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "n"},
        "spec": {"template": {"spec": {"containers": [{"resources": {"limits": {"cpu": 1}}}]}}},
    }
    assert (
        _applyable(widget, owner=Ownership("b", "b/c"), namespaced=True)["spec"] == widget["spec"]
    )
