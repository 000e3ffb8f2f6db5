"""Capture real objects from a kube-apiserver as readiness fixtures (tests/spoke/fixtures).

    python -m tests.k8s.capture KUBECONFIG [OUTDIR]

With no kubelet, the states a kubelet or cloud controller would produce (Pod Ready, PVC Bound,
a load balancer address, a Job's completion) are written through the status subresource, as
those controllers do; everything else is what the API server and the controller-manager wrote.
"""

from __future__ import annotations

import asyncio
import functools
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from spoke.backends.kube import KubernetesBackend, KubeSettings
from tests.k8s.kubeutil import MERGE, make_pods_ready, now

NS = "fixtures"
FIXTURES = Path(__file__).resolve().parents[1] / "spoke" / "fixtures"
# Server-assigned noise that would only make the fixtures churn.
_NOISE = ("managedFields", "uid", "resourceVersion", "creationTimestamp", "selfLink")


def _clean(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    for field in _NOISE:
        meta.pop(field, None)
    return obj


async def _until(
    get: Callable[[], Awaitable[dict[str, Any]]], ok: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        obj = await get()
        if ok(obj) or time.monotonic() > deadline:
            return obj
        await asyncio.sleep(0.3)


def _workload(kind: str, name: str, **spec: Any) -> dict[str, Any]:
    pod: dict[str, Any] = {"containers": [{"name": "main", "image": "busybox:1.36"}]}
    template = {"metadata": {"labels": {"app": name}}, "spec": pod}
    if kind == "Job":
        pod["restartPolicy"] = "Never"
        return {
            "apiVersion": "batch/v1",
            "kind": kind,
            "metadata": {"name": name, "namespace": NS},
            "spec": {"template": template, **spec},
        }
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": NS},
        "spec": {"selector": {"matchLabels": {"app": name}}, "template": template, **spec},
    }


async def capture(kubeconfig: str, out: Path) -> None:
    kube = KubernetesBackend(KubeSettings(kubeconfig=kubeconfig))
    await kube.connect()
    saved: dict[str, dict[str, Any]] = {}

    async def apply(obj: dict[str, Any]) -> dict[str, Any]:
        res = kube.discovery.lookup(obj["apiVersion"], obj["kind"])
        assert res is not None, obj["kind"]
        meta = obj["metadata"]
        return await kube.request(
            "PATCH",
            res.path(namespace=meta.get("namespace", ""), name=meta["name"]),
            query=[("fieldManager", "capture"), ("force", "true")],
            body=obj,
            content_type="application/apply-patch+yaml",
        )

    def path(obj: dict[str, Any]) -> str:
        res = kube.discovery.lookup(obj["apiVersion"], obj["kind"])
        assert res is not None
        meta = obj["metadata"]
        return res.path(namespace=meta.get("namespace", ""), name=meta["name"])

    async def get(obj: dict[str, Any]) -> dict[str, Any]:
        live = await kube.request("GET", path(obj))
        live.setdefault("apiVersion", obj["apiVersion"])
        live.setdefault("kind", obj["kind"])
        return live

    async def patch_status(obj: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
        return await kube.request(
            "PATCH", path(obj) + "/status", body={"status": status}, content_type=MERGE
        )

    try:
        await apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        await _until(
            lambda: kube.request("GET", f"/api/v1/namespaces/{NS}/serviceaccounts"),
            lambda sas: bool(sas.get("items")),
        )

        # Workloads: first as created (no pod ready), then after pods are marked ready.
        workloads = {
            "deployment": _workload("Deployment", "web", replicas=2),
            "replicaset": _workload("ReplicaSet", "rs", replicas=2),
            "statefulset": _workload("StatefulSet", "db", replicas=2, serviceName="db"),
            "daemonset": _workload("DaemonSet", "agent"),
        }
        for obj in workloads.values():
            await apply(obj)
        for name, obj in workloads.items():
            saved[f"{name}_created"] = await _until(
                functools.partial(get, obj),
                lambda live: "observedGeneration" in live.get("status", {}),
            )
        pods = await _until(
            lambda: kube.request("GET", f"/api/v1/namespaces/{NS}/pods"),
            lambda p: len(p.get("items") or []) >= 5,
        )
        pending = next(p for p in pods["items"] if p["metadata"]["name"].startswith("web-"))
        pending.update(apiVersion="v1", kind="Pod")
        saved["pod_pending"] = pending
        for name, obj in workloads.items():
            app = obj["metadata"]["name"]

            async def ready_get(o: dict[str, Any] = obj, a: str = app) -> dict[str, Any]:
                await make_pods_ready(kube, NS, f"app={a}")
                return await get(o)

            saved[f"{name}_ready"] = await _until(
                ready_get,
                lambda live: (
                    (live["status"].get("readyReplicas") or 0) >= 2 or live["kind"] == "DaemonSet"
                ),
            )
            if name == "deployment":
                saved["deployment_ready"] = await _until(
                    functools.partial(get, obj),
                    lambda live: (live["status"].get("availableReplicas") or 0) >= 2,
                )
        ready_pod = await kube.request(
            "GET", f"/api/v1/namespaces/{NS}/pods/{pending['metadata']['name']}"
        )
        ready_pod.update(apiVersion="v1", kind="Pod")
        saved["pod_ready"] = ready_pod

        # A new template: the Deployment rolls out again (generation 2, old replicas around).
        rolled = _workload("Deployment", "web", replicas=2)
        rolled["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:1.37"
        await apply(rolled)
        saved["deployment_rolling"] = await _until(
            lambda: get(rolled), lambda live: live["status"].get("observedGeneration") == 2
        )

        job = _workload("Job", "once")
        await apply(job)
        saved["job_running"] = await _until(
            lambda: get(job), lambda live: "active" in live.get("status", {})
        )
        t = now()
        saved["job_complete"] = await patch_status(
            job,
            {
                "succeeded": 1,
                "active": None,
                "completionTime": t,
                "conditions": [
                    {
                        "type": "Complete",
                        "status": "True",
                        "lastProbeTime": t,
                        "lastTransitionTime": t,
                    }
                ],
            },
        )
        failing = _workload("Job", "failing", backoffLimit=0)
        await apply(failing)
        saved["job_failed"] = await patch_status(
            failing,
            {
                "failed": 1,
                "conditions": [
                    {
                        "type": "Failed",
                        "status": "True",
                        "reason": "BackoffLimitExceeded",
                        "message": "Job has reached the specified backoff limit",
                        "lastProbeTime": t,
                        "lastTransitionTime": t,
                    }
                ],
            },
        )

        pvc = {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": NS},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
            },
        }
        saved["pvc_pending"] = await apply(pvc)
        saved["pvc_bound"] = await patch_status(
            pvc,
            {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}},
        )

        def service(name: str, kind: str) -> dict[str, Any]:
            return {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": name, "namespace": NS},
                "spec": {
                    "type": kind,
                    "selector": {"app": "web"},
                    "ports": [{"port": 80, "protocol": "TCP"}],
                },
            }

        saved["service_clusterip"] = await apply(service("web", "ClusterIP"))
        lb = service("public", "LoadBalancer")
        saved["service_lb_pending"] = await apply(lb)
        saved["service_lb_ready"] = await patch_status(
            lb, {"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}}
        )

        crd = {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.fixtures.example.com"},
            "spec": {
                "group": "fixtures.example.com",
                "scope": "Namespaced",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "subresources": {"status": {}},
                        "schema": {
                            "openAPIV3Schema": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                            }
                        },
                    }
                ],
            },
        }
        await apply(crd)
        saved["crd_established"] = await _until(
            lambda: get(crd),
            lambda live: any(
                c["type"] == "Established" and c["status"] == "True"
                for c in live.get("status", {}).get("conditions", [])
            ),
        )
        await kube.refresh_discovery()
        widget = {
            "apiVersion": "fixtures.example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "w", "namespace": NS},
            "spec": {"size": 1},
        }
        saved["widget_no_status"] = await apply(widget)
        saved["widget_not_ready"] = await patch_status(
            widget,
            {
                "observedGeneration": 1,
                "conditions": [
                    {
                        "type": "Ready",
                        "status": "False",
                        "reason": "Waiting",
                        "message": "backend not reachable",
                    }
                ],
            },
        )
        saved["widget_ready"] = await patch_status(
            widget,
            {"conditions": [{"type": "Ready", "status": "True", "reason": "Ok", "message": ""}]},
        )
        saved["configmap"] = await apply(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "settings", "namespace": NS},
                "data": {"color": "blue"},
            }
        )
        saved["namespace"] = await get(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}
        )
    finally:
        await kube.close()
    out.mkdir(parents=True, exist_ok=True)
    for name, obj in saved.items():
        (out / f"{name}.json").write_text(json.dumps(_clean(obj), indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(saved)} fixtures to {out}")


if __name__ == "__main__":
    asyncio.run(capture(sys.argv[1], Path(sys.argv[2]) if len(sys.argv) > 2 else FIXTURES))
