"""The simulated cluster: an in-memory API server plus the controllers that matter for status.

It stores objects as a server would (generation, resourceVersion, uid), and plays the
controllers: Deployments, StatefulSets, DaemonSets, ReplicaSets and Jobs roll out, claims bind
and LoadBalancer Services get an address after a configurable delay, by having their *status*
written, so the spoke judges
readiness with the same rules it uses on a real cluster. Tests and the demo can inject drift,
external deletes and apply errors. With require_crds it serves a custom kind only once a CRD
defining it is applied, as an API server does, and says so through `kinds`.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import re
import uuid
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argosy.manifests import resource_key
from spoke.backends.base import (
    DEPLOYMENT_ANNOTATION,
    OWNER_LABEL,
    ApplyResult,
    ChangeCounter,
    Obj,
    Ownership,
    OwnerUnknown,
    WatchEvent,
    namespace_field_manager,
)
from spoke.state import MirroredCredentialStore

# Kinds that live outside namespaces; everything else, custom kinds included, is namespaced.
CLUSTER_SCOPED = frozenset(
    {
        "Namespace",
        "Node",
        "PersistentVolume",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "StorageClass",
        "PriorityClass",
        "IngressClass",
        "RuntimeClass",
        "CSIDriver",
        "APIService",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
    }
)
WORKLOADS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"})
ORDER = {"Namespace": 0, "CustomResourceDefinition": 1}


@dataclass(frozen=True)
class SimulationSettings:
    ready_delay: float = 0.2
    """Seconds until a workload reports ready."""
    fail_pattern: str = ""
    """Applying an object whose name matches this regex fails with an error."""
    require_crds: bool = False
    """Serve custom kinds (groups other than the built-in ones) only once a CRD defining them
    is applied; off, every kind is served."""


class SimulatedCluster:
    """One in-memory cluster. It outlives spoke restarts, like a real cluster does."""

    def __init__(self, settings: SimulationSettings | None = None, *, name: str = "sim") -> None:
        self.settings = settings or SimulationSettings()
        self.name = name
        self.objects: dict[str, dict[str, Any]] = {}
        self._versions = itertools.count(1)
        self._watchers: set[asyncio.Queue[WatchEvent]] = set()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._fail = re.compile(self.settings.fail_pattern) if self.settings.fail_pattern else None
        self.apply_calls = 0
        # Who made the last write to each key ("" for the agent itself, else the impersonated
        # user), so tests see a serviceAccount arrive without a real API server.
        self.actors: dict[str, str] = {}
        self.agent_namespace = "argosy-system"
        # (namespace, field manager) -> the label and annotation keys it set.
        self._namespace_fields: dict[tuple[str, str], tuple[set[str], set[str]]] = {}
        self.kinds = ChangeCounter()
        # Its watch is a queue in memory: it never breaks, so never starts over.
        self.watch_restarts = 0
        # (group, kind) -> the name of the CRD defining it.
        self._custom_kinds: dict[tuple[str, str], str] = {}
        # key -> (the desired object last applied, its deployment, the live resourceVersion
        # it produced): re-applying an unchanged object to an untouched one is a no-op, and
        # every new revision re-applies everything, so that check has to be cheap.
        self._last_applied: dict[str, tuple[Obj, str, str]] = {}

    # --- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> SimulatedCluster:
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Nothing to close: the cluster outlives the spoke (its objects, its rollouts), as a
        real one does, and a restarted spoke enters it again."""

    def credential_mirror(
        self, path: Path | None, *, secret: str
    ) -> MirroredCredentialStore | None:
        """None: a simulated cluster has nowhere to keep a credential beyond the data dir."""
        del path, secret
        return None

    # --- the API-server side -------------------------------------------------------------------

    def rediscover_soon(self) -> None:
        """Nothing to do: the simulated cluster's kinds are always current."""

    def is_namespaced(self, api_version: str, kind: str) -> bool:
        del api_version
        return kind not in CLUSTER_SCOPED

    async def apply(
        self,
        objs: Sequence[Obj],
        *,
        owner: Ownership,
        force: bool,
        yield_paths: Mapping[str, Collection[str]] | None = None,
    ) -> list[ApplyResult]:
        del force, yield_paths  # one field manager here: there is nobody to conflict with
        order = sorted(range(len(objs)), key=lambda i: ORDER.get(str(objs[i].get("kind")), 2))
        results: dict[int, ApplyResult] = {}
        for i in order:
            results[i] = self._apply_one(objs[i], owner)
        return [results[i] for i in range(len(objs))]

    def _user(self, service_account: str) -> str:
        if not service_account:
            return ""
        return f"system:serviceaccount:{self.agent_namespace}:{service_account}"

    def _apply_one(self, desired: Obj, owner: Ownership) -> ApplyResult:
        self.apply_calls += 1
        key = resource_key(desired)
        self.actors[key] = self._user(owner.service_account)
        meta = desired.get("metadata") or {}
        if self._fail is not None and self._fail.search(str(meta.get("name", ""))):
            return ApplyResult(key, f"simulated apply error for {key}: injected failure")
        live = self.objects.get(key)
        last = self._last_applied.get(key)
        if (
            last is not None
            and live is not None
            and last[1:] == (owner.deployment, live["metadata"]["resourceVersion"])
            # The reconciler hands the same dict back for an unchanged object, so this
            # compares by identity, value by value, without walking the object.
            and last[0] == desired
        ):
            return ApplyResult(key, obj=live)
        api_version, kind = str(desired.get("apiVersion", "")), str(desired.get("kind", ""))
        group = api_version.rpartition("/")[0]
        if (
            self.settings.require_crds
            and _custom(group)
            and (group, kind) not in self._custom_kinds
        ):
            return ApplyResult(
                key,
                f'the server does not serve kind "{kind}" in "{api_version}" '
                "(is its CustomResourceDefinition installed and established?)",
            )
        namespace = meta.get("namespace")
        if namespace and self.is_namespaced("", str(desired.get("kind"))):
            ns_key = f"/Namespace//{namespace}"
            if ns_key not in self.objects:
                return ApplyResult(key, f'namespaces "{namespace}" not found')
        obj = copy.deepcopy(dict(desired))
        obj.pop("status", None)
        new_meta = obj.setdefault("metadata", {})
        new_meta.setdefault("labels", {})[OWNER_LABEL] = owner.bundle
        new_meta.setdefault("annotations", {})[DEPLOYMENT_ANNOTATION] = owner.deployment
        changed = True
        if live is None:
            new_meta["uid"] = str(uuid.uuid4())
            new_meta["generation"] = 1
        else:
            new_meta["uid"] = live["metadata"]["uid"]
            changed = obj.get("spec") != live.get("spec")
            new_meta["generation"] = live["metadata"]["generation"] + int(changed)
            obj["status"] = copy.deepcopy(live.get("status", {}))
            if self._without_rv(obj) == self._without_rv(live):
                self._last_applied[key] = (desired, owner.deployment, live_rv(live))
                return ApplyResult(key, obj=live)
        self._store(key, obj)
        if changed and _controlled(obj):
            self._start_rollout(key)
        if kind == "CustomResourceDefinition":
            self._serve(obj)
        live = self.objects[key]
        self._last_applied[key] = (desired, owner.deployment, live_rv(live))
        return ApplyResult(key, obj=live)

    def _serve(self, crd: Mapping[str, Any]) -> None:
        spec = crd.get("spec") or {}
        kind = str((spec.get("names") or {}).get("kind", ""))
        served = (str(spec.get("group", "")), kind)
        if kind and served not in self._custom_kinds:
            self._custom_kinds[served] = crd["metadata"]["name"]
            self.kinds.bump()

    def _unserve(self, crd_name: str) -> None:
        gone = [gk for gk, name in self._custom_kinds.items() if name == crd_name]
        for gk in gone:
            del self._custom_kinds[gk]
        if gone:
            self.kinds.bump()

    @staticmethod
    def _without_rv(obj: Mapping[str, Any]) -> Any:
        out = dict(obj)
        out["metadata"] = {k: v for k, v in obj["metadata"].items() if k != "resourceVersion"}
        return out

    def _store(self, key: str, obj: dict[str, Any]) -> None:
        obj["metadata"]["resourceVersion"] = str(next(self._versions))
        self.objects[key] = obj
        self._emit(WatchEvent(key, copy.deepcopy(obj)))

    def _emit(self, event: WatchEvent) -> None:
        for queue in self._watchers:
            queue.put_nowait(event)

    async def delete(self, keys: Sequence[str], *, service_account: str = "") -> list[ApplyResult]:
        for key in keys:
            self.actors[key] = self._user(service_account)
            if key.startswith("/Namespace//"):
                # The namespace controller: what lived in the namespace goes with it.
                namespace = key.rpartition("/")[2]
                for other in [k for k in self.objects if k.split("/", 3)[2] == namespace]:
                    self.remove(other)
            self.remove(key)
        return [ApplyResult(k) for k in keys]

    def remove(self, key: str) -> None:
        """Delete one object (also what `kubectl delete` behind the spoke's back does)."""
        if self.objects.pop(key, None) is not None:
            self._last_applied.pop(key, None)
            self._cancel_timer(key)
            self._emit(WatchEvent(key, None))
            if key.startswith("apiextensions.k8s.io/CustomResourceDefinition/"):
                self._unserve(key.rsplit("/", 1)[1])

    async def set_namespace_metadata(
        self,
        name: str,
        *,
        labels: Mapping[str, str],
        annotations: Mapping[str, str],
        bundle: str,
        service_account: str = "",
    ) -> ApplyResult:
        key = f"/Namespace//{name}"
        self.actors[key] = self._user(service_account)
        if key not in self.objects:
            # As server-side apply does on a real cluster: the namespace is created.
            await self.ensure_namespaces([name], service_account=service_account)
        live = self.objects[key]
        obj = copy.deepcopy(live)
        meta = obj["metadata"]
        manager = (name, namespace_field_manager(bundle))
        old_labels, old_annotations = self._namespace_fields.get(manager, (set(), set()))
        for field_name, old, new in (
            ("labels", old_labels, labels),
            ("annotations", old_annotations, annotations),
        ):
            values = meta.setdefault(field_name, {})
            for gone in old - set(new):
                values.pop(gone, None)
            values.update(new)
        self._namespace_fields[manager] = (set(labels), set(annotations))
        if obj != live:
            self._store(key, obj)
        return ApplyResult(key, obj=self.objects[key])

    async def ensure_namespaces(
        self, names: Sequence[str], *, service_account: str = ""
    ) -> list[ApplyResult]:
        out = []
        for name in names:
            key = f"/Namespace//{name}"
            self.actors.setdefault(key, self._user(service_account))
            if key not in self.objects:
                meta = {"name": name, "uid": str(uuid.uuid4()), "generation": 1}
                obj: dict[str, Any] = {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}
                self._store(key, obj)
            out.append(ApplyResult(key, obj=self.objects[key]))
        return out

    async def get(self, key: str) -> Obj | None:
        obj = self.objects.get(key)
        return copy.deepcopy(obj) if obj is not None else None

    async def owners(self, keys: Sequence[str]) -> dict[str, str | OwnerUnknown]:
        out: dict[str, str | OwnerUnknown] = {}
        for key in keys:
            obj = self.objects.get(key)
            owner = ((obj or {}).get("metadata", {}).get("labels") or {}).get(OWNER_LABEL)
            if owner:
                out[key] = str(owner)
        return out

    async def watch(self) -> AsyncIterator[WatchEvent]:
        queue: asyncio.Queue[WatchEvent] = asyncio.Queue()
        self._watchers.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._watchers.discard(queue)

    # --- the controllers -----------------------------------------------------------------------

    def _start_rollout(self, key: str) -> None:
        obj = self.objects[key]
        obj["status"] = self._workload_status(obj, ready=False)
        self._cancel_timer(key)
        loop = asyncio.get_running_loop()
        self._timers[key] = loop.call_later(self.settings.ready_delay, self._finish_rollout, key)

    def _finish_rollout(self, key: str) -> None:
        self._timers.pop(key, None)
        obj = self.objects.get(key)
        if obj is None:
            return
        obj = copy.deepcopy(obj)
        obj["status"] = self._workload_status(obj, ready=True)
        self._store(key, obj)

    def _cancel_timer(self, key: str) -> None:
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()

    @staticmethod
    def _workload_status(obj: Mapping[str, Any], *, ready: bool) -> dict[str, Any]:
        kind = obj.get("kind")
        generation = obj["metadata"]["generation"]
        if kind == "Service":
            # A cloud (or servicelb-style) load-balancer controller hands out an address.
            ingress = [{"ip": "198.51.100.10"}] if ready else []
            return {"loadBalancer": {"ingress": ingress} if ingress else {}}
        if kind == "PersistentVolumeClaim":
            return {"phase": "Bound" if ready else "Pending"}
        if kind == "Job":
            if not ready:
                return {"active": 1}
            return {
                "succeeded": 1,
                "conditions": [{"type": "Complete", "status": "True"}],
            }
        if kind == "DaemonSet":
            n = 3 if ready else 0
            return {
                "observedGeneration": generation,
                "desiredNumberScheduled": 3,
                "currentNumberScheduled": 3,
                "updatedNumberScheduled": n,
                "numberReady": n,
                "numberAvailable": n,
            }
        want = (obj.get("spec") or {}).get("replicas", 1)
        n = want if ready else 0
        return {
            "observedGeneration": generation,
            "replicas": want,
            "updatedReplicas": n,
            "readyReplicas": n,
            "availableReplicas": n,
        }

    # --- what tests and the demo do to a cluster behind the spoke's back ------------------------

    def inject_drift(self, key: str, patch: Mapping[str, Any]) -> None:
        """Change a live object as `kubectl edit` would (a JSON merge patch)."""
        obj = copy.deepcopy(self.objects[key])
        _merge_patch(obj, patch)
        if "spec" in patch:
            obj["metadata"]["generation"] += 1
        self._store(key, obj)
        if "spec" in patch and _controlled(obj):
            self._start_rollout(key)


def live_rv(obj: Mapping[str, Any]) -> str:
    return str(obj["metadata"]["resourceVersion"])


def _custom(group: str) -> bool:
    """Whether an API group is one a CRD must define (not served by every API server)."""
    return "." in group and not group.endswith(".k8s.io")


def _controlled(obj: Mapping[str, Any]) -> bool:
    """Whether a simulated controller writes this object's status over time."""
    kind = obj.get("kind")
    if kind == "Service":
        return (obj.get("spec") or {}).get("type") == "LoadBalancer"
    return kind in WORKLOADS or kind == "PersistentVolumeClaim"


def _merge_patch(target: dict[str, Any], patch: Mapping[str, Any]) -> None:
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge_patch(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
