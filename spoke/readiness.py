"""Readiness of live objects, kstatus-style: one pure function per kind, a generic fallback.

Each rule reads only the object's JSON, so it is tested on real objects and behaves the same
for the simulated cluster and a real kube-apiserver.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

Obj = Mapping[str, Any]
Verdict = tuple[bool, str]


def _conditions(obj: Obj) -> dict[str, Mapping[str, Any]]:
    status = obj.get("status") or {}
    return {str(c.get("type")): c for c in status.get("conditions") or [] if isinstance(c, dict)}


def _generation_observed(obj: Obj) -> Verdict | None:
    generation = (obj.get("metadata") or {}).get("generation")
    observed = (obj.get("status") or {}).get("observedGeneration")
    if generation is not None and (observed is None or observed < generation):
        return False, f"waiting for the controller to observe generation {generation}"
    return None


def _replicated(obj: Obj) -> Verdict:
    pending = _generation_observed(obj)
    if pending:
        return pending
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    want = spec.get("replicas", 1)
    for field in ("updatedReplicas", "readyReplicas", "availableReplicas"):
        if obj.get("kind") == "ReplicaSet" and field == "updatedReplicas":
            continue
        have = status.get(field) or 0
        if have < want:
            return False, f"{field.removesuffix('Replicas')} replicas: {have} of {want}"
    return True, ""


def _daemonset(obj: Obj) -> Verdict:
    pending = _generation_observed(obj)
    if pending:
        return pending
    status = obj.get("status") or {}
    want = status.get("desiredNumberScheduled") or 0
    for field in ("updatedNumberScheduled", "numberReady", "numberAvailable"):
        have = status.get(field) or 0
        if have < want:
            return False, f"{field}: {have} of {want}"
    return True, ""


def _job(obj: Obj) -> Verdict:
    conds = _conditions(obj)
    if conds.get("Complete", {}).get("status") == "True":
        return True, ""
    if conds.get("Failed", {}).get("status") == "True":
        return False, f"job failed: {conds['Failed'].get('message', '')}".strip()
    return False, "job not complete"


def _pod(obj: Obj) -> Verdict:
    if (obj.get("status") or {}).get("phase") == "Succeeded":
        return True, ""
    ready = _conditions(obj).get("Ready", {})
    return (True, "") if ready.get("status") == "True" else (False, "pod not ready")


def _pvc(obj: Obj) -> Verdict:
    phase = (obj.get("status") or {}).get("phase")
    return (True, "") if phase == "Bound" else (False, f"claim is {phase or 'Pending'}")


def _service(obj: Obj) -> Verdict:
    if (obj.get("spec") or {}).get("type") != "LoadBalancer":
        return True, ""
    ingress = ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress")
    return (True, "") if ingress else (False, "waiting for a load balancer address")


def _crd(obj: Obj) -> Verdict:
    established = _conditions(obj).get("Established", {})
    return (True, "") if established.get("status") == "True" else (False, "not established")


def _generic(obj: Obj, ignore: Collection[str]) -> Verdict:
    conds = _conditions(obj)
    for kind in ("Ready", "Available"):
        if kind in ignore or kind not in conds:
            continue
        cond = conds[kind]
        if cond.get("status") != "True":
            return False, str(cond.get("message") or f"{kind} is {cond.get('status')}")
    return True, ""


RULES: dict[str, Callable[[Obj], Verdict]] = {
    "Deployment": _replicated,
    "StatefulSet": _replicated,
    "ReplicaSet": _replicated,
    "DaemonSet": _daemonset,
    "Job": _job,
    "Pod": _pod,
    "PersistentVolumeClaim": _pvc,
    "Service": _service,
    "CustomResourceDefinition": _crd,
}


def readiness(obj: Obj, *, ignore_conditions: Collection[str] = ()) -> Verdict:
    """(ready, why not) for a live object."""
    rule = RULES.get(str(obj.get("kind")))
    return rule(obj) if rule else _generic(obj, ignore_conditions)
