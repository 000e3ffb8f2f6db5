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
from spoke.backends.kube import KubernetesBackend, KubeSettings
from spoke.reconciler import Reconciler, StatusSink
from spoke.retry import Retrier, RetrySettings
from spoke.state import LocalState

MERGE = "application/merge-patch+json"
SLOW_RETRIES = RetrySettings(initial=300.0, maximum=300.0)


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
    take_ownership: bool = False,
    base: spoke_pb2.DeploymentUpsert | None = None,
) -> spoke_pb2.DeploymentUpsert:
    """A DeploymentUpsert as the hub sends it: whole, or the diff against `base`."""
    manifests = [Manifest.of(o) for o in objs]
    revision = combine(f"{m.key} {m.hash}" for m in sorted(manifests, key=lambda m: m.key))
    before = {r.key: r.hash for r in base.upserts} if base is not None else {}
    return spoke_pb2.DeploymentUpsert(
        bundle=bundle,
        revision=revision,
        base_revision=base.revision if base is not None else "",
        upserts=[
            resources_pb2.Resource(key=m.key, hash=m.hash, manifest=m.manifest)
            for m in manifests
            if before.get(m.key) != m.hash
        ],
        removed=[k for k in before if k not in {m.key for m in manifests}],
        resource_count=len(manifests),
        options=spoke_pb2.DeploymentOptions(
            default_namespace=default_namespace,
            correct_drift=correct_drift,
            force=force,
            take_ownership=take_ownership,
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
    """A reconciler on the Kubernetes backend with its watch and retry loops running (no hub
    link). The retries' backoff defaults to 300 s: within a test only an immediate cause
    (served kinds changed, a bundle deleted, a restart) makes one."""

    def __init__(
        self,
        kubeconfig: str,
        state_path: Any = None,
        *,
        name: str = "real",
        retry: RetrySettings = SLOW_RETRIES,
    ) -> None:
        self.backend = KubernetesBackend(KubeSettings(kubeconfig=kubeconfig, crd_wait=30))
        self.state = LocalState(state_path)
        self.sink = RecordingSink()
        self.retrier = Retrier(retry)
        self.reconciler = Reconciler(
            backend=self.backend,
            state=self.state,
            sink=self.sink,
            retries=self.retrier,
            cluster_name=name,
        )
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> LocalSpoke:
        await self.backend.connect()
        self.state.load()
        await self.reconciler.start()
        self._tasks = [
            asyncio.create_task(self.reconciler.run(), name="test-reconciler-watch"),
            asyncio.create_task(
                self.retrier.run(self.reconciler, self.backend.kinds), name="test-retrier"
            ),
        ]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.backend.close()
