"""Readiness of live objects, kstatus-style: one pure function per kind, a generic fallback.

Each rule reads only the object's JSON, so it is tested on real objects (captured from a
kube-apiserver, tests/spoke/fixtures) and behaves the same for the simulated cluster and a real
cluster. Fleet's `ignore.conditions` is honoured by dropping matching conditions before any
rule runs, so an ignored condition can neither block nor fail an object.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

Obj = Mapping[str, Any]
Verdict = tuple[bool, str]
# A condition type ("Ready"), or Fleet's form: fields that must all match ({type, status}).
IgnoreRule = str | Mapping[str, str]


def _conditions(obj: Obj) -> dict[str, Mapping[str, Any]]:
    status = obj.get("status") or {}
    return {str(c.get("type")): c for c in status.get("conditions") or [] if isinstance(c, dict)}


def _true(obj: Obj, kind: str) -> bool:
    return _conditions(obj).get(kind, {}).get("status") == "True"


def _generation_observed(obj: Obj) -> Verdict | None:
    generation = (obj.get("metadata") or {}).get("generation")
    observed = (obj.get("status") or {}).get("observedGeneration")
    if generation is not None and (observed is None or observed < generation):
        return False, f"waiting for the controller to observe generation {generation}"
    return None


def _deployment(obj: Obj) -> Verdict:
    pending = _generation_observed(obj)
    if pending:
        return pending
    progressing = _conditions(obj).get("Progressing", {})
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        return False, str(progressing.get("message") or "progress deadline exceeded")
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    want = spec.get("replicas", 1)
    for field in ("updatedReplicas", "readyReplicas", "availableReplicas"):
        have = status.get(field) or 0
        if have < want:
            return False, f"{field.removesuffix('Replicas')} replicas: {have} of {want}"
    if (status.get("replicas") or 0) > want:
        return False, f"old replicas pending termination: {status['replicas']} of {want}"
    return True, ""


def _replicaset(obj: Obj) -> Verdict:
    pending = _generation_observed(obj)
    if pending:
        return pending
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    want = spec.get("replicas", 1)
    for field in ("readyReplicas", "availableReplicas"):
        have = status.get(field) or 0
        if have < want:
            return False, f"{field.removesuffix('Replicas')} replicas: {have} of {want}"
    return True, ""


def _statefulset(obj: Obj) -> Verdict:
    # No availableReplicas before Kubernetes 1.22: judge by ready, updated and the revisions.
    pending = _generation_observed(obj)
    if pending:
        return pending
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    want = spec.get("replicas", 1)
    have = status.get("readyReplicas") or 0
    if have < want:
        return False, f"ready replicas: {have} of {want}"
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") == "RollingUpdate":
        partition = (strategy.get("rollingUpdate") or {}).get("partition") or 0
        updated = status.get("updatedReplicas") or 0
        if updated < want - partition:
            return False, f"updated replicas: {updated} of {want - partition}"
        current, update = status.get("currentRevision"), status.get("updateRevision")
        if not partition and current and update and current != update:
            return False, f"rolling out revision {update}"
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
    status = obj.get("status") or {}
    phase = status.get("phase")
    if phase == "Succeeded":
        return True, ""
    if phase == "Failed":
        return False, f"pod failed: {status.get('message') or status.get('reason') or ''}".strip()
    return (True, "") if _true(obj, "Ready") else (False, "pod not ready")


def _pvc(obj: Obj) -> Verdict:
    phase = (obj.get("status") or {}).get("phase")
    return (True, "") if phase == "Bound" else (False, f"claim is {phase or 'Pending'}")


def _service(obj: Obj) -> Verdict:
    if (obj.get("spec") or {}).get("type") != "LoadBalancer":
        return True, ""
    ingress = ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress")
    return (True, "") if ingress else (False, "waiting for a load balancer address")


def _crd(obj: Obj) -> Verdict:
    conds = _conditions(obj)
    names = conds.get("NamesAccepted", {})
    if names.get("status") == "False":
        return False, str(names.get("message") or "names not accepted")
    return (True, "") if _true(obj, "Established") else (False, "not established")


def _generic(obj: Obj) -> Verdict:
    # kstatus's abnormal-true conditions first, then the usual positive ones.
    conds = _conditions(obj)
    for kind in ("Stalled", "Reconciling"):
        cond = conds.get(kind)
        if cond is not None and cond.get("status") == "True":
            return False, str(cond.get("message") or f"{kind}")
    for kind in ("Ready", "Available"):
        cond = conds.get(kind)
        if cond is not None and cond.get("status") != "True":
            return False, str(cond.get("message") or f"{kind} is {cond.get('status')}")
    if "observedGeneration" in (obj.get("status") or {}):
        pending = _generation_observed(obj)
        if pending:
            return pending
    return True, ""


RULES: dict[str, Callable[[Obj], Verdict]] = {
    "Deployment": _deployment,
    "StatefulSet": _statefulset,
    "ReplicaSet": _replicaset,
    "DaemonSet": _daemonset,
    "Job": _job,
    "Pod": _pod,
    "PersistentVolumeClaim": _pvc,
    "Service": _service,
    "CustomResourceDefinition": _crd,
}


def _ignored(cond: Mapping[str, Any], rules: Collection[IgnoreRule]) -> bool:
    for rule in rules:
        if isinstance(rule, str):
            if cond.get("type") == rule:
                return True
        elif rule and all(str(cond.get(k)) == str(v) for k, v in rule.items()):
            return True
    return False


def without_ignored(obj: Obj, rules: Collection[IgnoreRule]) -> Obj:
    """obj with the status conditions that match an ignore rule removed (Fleet semantics)."""
    status = obj.get("status")
    if not rules or not isinstance(status, Mapping) or not status.get("conditions"):
        return obj
    kept = [c for c in status["conditions"] if not (isinstance(c, dict) and _ignored(c, rules))]
    return {**obj, "status": {**status, "conditions": kept}}


def readiness(obj: Obj, *, ignore_conditions: Collection[IgnoreRule] = ()) -> Verdict:
    """(ready, why not) for a live object."""
    obj = without_ignored(obj, ignore_conditions)
    rule = RULES.get(str(obj.get("kind")))
    return rule(obj) if rule else _generic(obj)
