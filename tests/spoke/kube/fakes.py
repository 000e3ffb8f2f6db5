"""In-memory stand-ins for the API server: a KubeClient that answers from a script."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Sequence
from pathlib import Path
from typing import Any

from spoke.backends.kube.client import ApiError, KubeClient, KubeSettings

FIXTURES = Path(__file__).parent.parent / "fixtures"

Handler = Callable[[str, str, dict[str, Any]], dict[str, Any]]


class ScriptedClient(KubeClient):
    """Answers requests with `handler(method, path, kwargs)` and watch requests from `watches`
    (lists of (type, object) events; ("GONE", {}) raises 410). Records every call."""

    def __init__(
        self,
        handler: Handler | None = None,
        *,
        watches: Sequence[list[tuple[str, Any]]] = (),
    ) -> None:
        super().__init__(KubeSettings(), agent_namespace="argosy-system")
        self.handler = handler or (lambda method, path, kwargs: {})
        self.watches = list(watches)
        self.calls: list[tuple[str, str]] = []
        self.watched_from: list[str] = []
        self.out_of_script = asyncio.Event()
        self.connects = 0
        self.closes = 0
        self.open = False

    @property
    def connected(self) -> bool:
        return self.open

    async def connect(self) -> None:
        self.connects += 1
        self.open = True

    async def close(self) -> None:
        self.closes += 1
        self.open = False

    async def request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        self.calls.append((method, path))
        return self.handler(method, path, kwargs)

    async def stream(
        self, path: str, *, query: Sequence[tuple[str, str]], resource_version: str
    ) -> AsyncGenerator[tuple[str, dict[str, Any]]]:
        self.watched_from.append(resource_version)
        if not self.watches:
            self.out_of_script.set()
            await asyncio.Event().wait()
        for event in self.watches.pop(0):
            if event[0] == "GONE":
                raise ApiError(410, "too old resource version")
            yield event


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
AUTOSCALING = {
    "kind": "APIResourceList",
    "groupVersion": "autoscaling/v1",
    "resources": [
        {"name": "horizontalpodautoscalers", "namespaced": True, "kind": "HorizontalPodAutoscaler"}
    ],
}


def discovery_server(method: str, path: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """An API server's discovery documents (core v1 and autoscaling/v1)."""
    del kwargs
    assert method == "GET"
    documents: dict[str, dict[str, Any]] = {
        "/api/v1": CORE,
        "/apis": GROUPS,
        "/apis/autoscaling/v1": AUTOSCALING,
    }
    return documents[path]
