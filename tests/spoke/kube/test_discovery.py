"""Discovery: parsing the API server's documents, the kind table, and when it is re-read."""

from __future__ import annotations

import json
from typing import Any

from spoke.backends.kube.client import ApiError
from spoke.backends.kube.discovery import (
    ApiResource,
    Discovery,
    DiscoveryReader,
    parse_resource_list,
    preferred_versions,
    resources_of_crd,
)
from tests.spoke.kube.fakes import CORE, FIXTURES, GROUPS, ScriptedClient, discovery_server


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


async def test_the_reader_fills_the_table_and_survives_a_broken_aggregated_api() -> None:
    groups = {
        "groups": [
            *GROUPS["groups"],
            {"name": "metrics.k8s.io", "versions": [{"groupVersion": "metrics.k8s.io/v1beta1"}]},
        ]
    }

    def server(method: str, path: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        if path == "/apis/metrics.k8s.io/v1beta1":
            raise ApiError(503, "the server is currently unable to handle the request")
        return groups if path == "/apis" else discovery_server(method, path, kwargs)

    table = Discovery()
    await DiscoveryReader(ScriptedClient(server), table, concurrency=2).read()
    assert table.is_namespaced("v1", "Namespace") is False
    assert table.is_namespaced("autoscaling/v1", "HorizontalPodAutoscaler") is True


async def test_an_unknown_kind_rereads_discovery_at_most_every_few_seconds_unless_asked() -> None:
    client = ScriptedClient(discovery_server)
    reader = DiscoveryReader(client, Discovery(), concurrency=2)
    await reader.refresh_quietly()
    reads = len(client.calls)
    assert reads == 3
    await reader.refresh_quietly()  # rate-limited: nothing read
    assert len(client.calls) == reads
    reader.soon()  # a retry the hub asked for: read at once
    await reader.refresh_quietly()
    assert len(client.calls) == 2 * reads
