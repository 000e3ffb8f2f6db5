"""Helpers for k8s-marked tests: hub-shaped upserts, pod readiness without a kubelet, edits."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from argosy.api.v1 import resources_pb2, spoke_pb2
from argosy.hashing import combine
from argosy.manifests import Manifest
from spoke.backends.kubernetes import KubernetesBackend, KubeSettings
from spoke.reconciler import Reconciler, StatusSink
from spoke.state import LocalState

MERGE = "application/merge-patch+json"


class RecordingSink(StatusSink):
    def __init__(self) -> None:
        self.marks: list[str] = []

    def mark(self, bundle: str) -> None:
        self.marks.append(bundle)


def upsert(
    bundle: str,
    objs: Sequence[Mapping[str, Any]],
    *,
    correct_drift: bool = False,
    force: bool = False,
    default_namespace: str = "",
) -> spoke_pb2.DeploymentUpsert:
    """A full (non-diff) DeploymentUpsert, as the hub sends it."""
    manifests = [Manifest.of(o) for o in objs]
    revision = combine(f"{m.key} {m.hash}" for m in sorted(manifests, key=lambda m: m.key))
    return spoke_pb2.DeploymentUpsert(
        bundle=bundle,
        revision=revision,
        upserts=[
            resources_pb2.Resource(key=m.key, hash=m.hash, manifest=m.manifest) for m in manifests
        ],
        resource_count=len(manifests),
        options=spoke_pb2.DeploymentOptions(
            default_namespace=default_namespace, correct_drift=correct_drift, force=force
        ),
    )


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def make_pods_ready(kube: KubernetesBackend, namespace: str, selector: str) -> int:
    """Play the kubelet: mark every matching pod Running and Ready. Returns how many."""
    pods = await kube.request(
        "GET", f"/api/v1/namespaces/{namespace}/pods", query=[("labelSelector", selector)]
    )
    for pod in pods.get("items") or []:
        t = now()
        await kube.request(
            "PATCH",
            f"/api/v1/namespaces/{namespace}/pods/{pod['metadata']['name']}/status",
            body={
                "status": {
                    "phase": "Running",
                    "conditions": [
                        {"type": "PodScheduled", "status": "True", "lastTransitionTime": t},
                        {"type": "Initialized", "status": "True", "lastTransitionTime": t},
                        {"type": "ContainersReady", "status": "True", "lastTransitionTime": t},
                        {"type": "Ready", "status": "True", "lastTransitionTime": t},
                    ],
                }
            },
            content_type=MERGE,
        )
    return len(pods.get("items") or [])


async def merge_patch(kube: KubernetesBackend, path: str, patch: Mapping[str, Any]) -> Any:
    return await kube.request("PATCH", path, body=dict(patch), content_type=MERGE)


class LocalSpoke:
    """A reconciler on the Kubernetes backend with its watch loop running (no hub link)."""

    def __init__(self, kubeconfig: str, state_path: Any = None, *, name: str = "real") -> None:
        self.backend = KubernetesBackend(KubeSettings(kubeconfig=kubeconfig, crd_wait=30))
        self.state = LocalState(state_path)
        self.sink = RecordingSink()
        self.reconciler = Reconciler(
            backend=self.backend, state=self.state, sink=self.sink, cluster_name=name
        )
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LocalSpoke:
        await self.backend.connect()
        self.state.load()
        await self.reconciler.start()
        self._task = asyncio.create_task(self.reconciler.run(), name="test-reconciler-watch")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.backend.close()
