"""The desired objects of a held deployment, and how each one stands on the cluster (pure).

`place` turns a manifest as the hub sent it into the object the spoke applies and follows: a
namespaced object without a namespace gets the deployment's defaultNamespace (else the spoke's
default). Whether a kind is namespaced comes first from a CRD in the same bundle (`crd_scopes`),
which says so before the cluster can, then from the backend. `judge` is the verdict on one live
object under the bundle's options: readiness (ignore.conditions) and drift (comparePatches).
The reconciler owns the state; these decide.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from argosy.options import ApplyOptions
from argosy.redaction import is_secret, redacted
from spoke.backends.base import Obj
from spoke.drift import drift, explain, ignored_paths
from spoke.readiness import readiness


@dataclass(frozen=True)
class ResourceState:
    ready: bool
    modified: bool
    missing: bool
    message: str
    # Drifted: the JSON pointers that differ and a bounded diff (spoke/drift.py `explain`).
    drift_paths: tuple[str, ...] = ()
    drift_diff: str = ""


MISSING = ResourceState(False, True, True, "missing")


def crd_scopes(resources: Mapping[str, tuple[str, bytes]]) -> dict[tuple[str, str], bool]:
    """(group, kind) -> namespaced, for the custom resources the bundle's CRDs define.

    resources: hub key -> (hash, manifest), as a deployment is held.
    """
    scopes = {}
    for hub_key, (_, manifest) in resources.items():
        if hub_key.split("/", 2)[1] != "CustomResourceDefinition":
            continue
        spec = json.loads(manifest).get("spec") or {}
        kind = (spec.get("names") or {}).get("kind", "")
        scopes[(str(spec.get("group", "")), str(kind))] = spec.get("scope") != "Cluster"
    return scopes


def place(
    manifest: bytes,
    *,
    default_namespace: str,
    scopes: Mapping[tuple[str, str], bool],
    is_namespaced: Callable[[str, str], bool],
) -> dict[str, Any]:
    """The object a manifest makes on this cluster, its namespace filled in when it needs one."""
    obj: dict[str, Any] = json.loads(manifest)
    meta = obj.setdefault("metadata", {})
    api_version, kind = str(obj.get("apiVersion")), str(obj.get("kind"))
    namespaced = scopes.get((api_version.rpartition("/")[0], kind))
    if namespaced is None:
        namespaced = is_namespaced(api_version, kind)
    if not meta.get("namespace") and namespaced:
        meta["namespace"] = default_namespace
    return obj


def judge(desired: Obj, live: Obj | None, options: ApplyOptions) -> ResourceState:
    """How a desired object stands, from its live form (None: it does not exist)."""
    if live is None:
        return MISSING
    ready, why = readiness(live, ignore_conditions=options.ignore_conditions)
    ignore = ignored_paths(options.compare_patches, desired)
    patch = drift(desired, live, ignore=ignore)
    if patch is None:
        return ResourceState(ready=ready, modified=False, missing=False, message=why)
    explained = explain(desired, live, ignore=ignore)
    return ResourceState(
        ready=ready,
        modified=True,
        missing=False,
        message=json.dumps(
            redacted(patch) if is_secret(desired) else patch, sort_keys=True, separators=(",", ":")
        ),
        drift_paths=explained.paths,
        drift_diff=explained.diff,
    )
