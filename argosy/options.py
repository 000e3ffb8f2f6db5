"""How a spoke applies one deployment: the one model of the apply options.

fleet.yaml's DeploymentOptions (argosy.bundle.fleetyaml) say what a user wrote, including the
render inputs; `ApplyOptions` is what reaches the spoke after targeting: the hub hashes it into
the revision (`as_dict`), stores it with rendered revisions, sends it as the protobuf
DeploymentOptions (argosy.convert), and the spoke keeps it with what it holds (`as_dict` /
`from_dict` again, in its state file).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any


@dataclass(frozen=True)
class ApplyOptions:
    default_namespace: str = ""
    """Where namespaced objects without a namespace go ("" : the spoke's default)."""
    keep_resources: bool = False
    """Never delete this deployment's objects (prune, bundle delete)."""
    force: bool = False
    """Server-side apply with force (fleet.yaml helm.force)."""
    correct_drift: bool = False
    """Re-apply, with force, an object found modified."""
    compare_patches_json: str = ""
    """diff.comparePatches as a JSON list in fleet.yaml's shape ("" when unset)."""
    ignore_conditions_json: str = ""
    """ignore.conditions as a JSON list in fleet.yaml's shape ("" when unset)."""
    force_sync_generation: int = 0
    """A new value makes a new revision, so the spoke applies every object again."""
    take_ownership: bool = False
    """Take objects another bundle owns instead of refusing them (helm.takeOwnership)."""
    service_account: str = ""
    """Apply as system:serviceaccount:<the spoke's namespace>:<this>, as Fleet's agent does."""
    namespace_labels: Mapping[str, str] = field(default_factory=dict)
    namespace_annotations: Mapping[str, str] = field(default_factory=dict)
    delete_namespace: bool = False
    """Deleting the deployment deletes its namespace too."""

    # Parsed once: the spoke reads these on every judgement of every object. cached_property
    # writes the instance __dict__ directly, so it works on this frozen (slot-less) class, and
    # the cache is no field (equality and as_dict ignore it). Callers must not mutate them.
    @cached_property
    def compare_patches(self) -> list[dict[str, Any]]:
        return _json_list(self.compare_patches_json)

    @cached_property
    def ignore_conditions(self) -> list[dict[str, Any]]:
        return _json_list(self.ignore_conditions_json)

    def as_dict(self) -> dict[str, object]:
        """The options as a JSON document: hashed into revisions, so its shape is permanent."""
        out: dict[str, object] = {
            "defaultNamespace": self.default_namespace,
            "keepResources": self.keep_resources,
            "force": self.force,
            "correctDrift": self.correct_drift,
        }
        # Only when set, so revisions made before these existed stay the same.
        if self.compare_patches_json:
            out["comparePatches"] = self.compare_patches_json
        if self.ignore_conditions_json:
            out["ignoreConditions"] = self.ignore_conditions_json
        # Part of the revision, so a new forceSyncGeneration (or any of these) is a new revision
        # and reaches every spoke, which then applies the whole set again.
        for name, value in self._extras().items():
            if value:
                out[name] = value
        return out

    def _extras(self) -> dict[str, Any]:
        return {
            "forceSyncGeneration": self.force_sync_generation,
            "takeOwnership": self.take_ownership,
            "serviceAccount": self.service_account,
            "namespaceLabels": dict(self.namespace_labels),
            "namespaceAnnotations": dict(self.namespace_annotations),
            "deleteNamespace": self.delete_namespace,
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> ApplyOptions:
        """The inverse of as_dict; comparePatches/ignoreConditions may also be parsed lists
        (spoke state files written before this model)."""
        return cls(
            default_namespace=str(doc.get("defaultNamespace") or ""),
            keep_resources=bool(doc.get("keepResources", False)),
            force=bool(doc.get("force", False)),
            correct_drift=bool(doc.get("correctDrift", False)),
            compare_patches_json=_as_json(doc.get("comparePatches")),
            ignore_conditions_json=_as_json(doc.get("ignoreConditions")),
            force_sync_generation=int(doc.get("forceSyncGeneration") or 0),
            take_ownership=bool(doc.get("takeOwnership", False)),
            service_account=str(doc.get("serviceAccount") or ""),
            namespace_labels={
                str(k): str(v) for k, v in (doc.get("namespaceLabels") or {}).items()
            },
            namespace_annotations={
                str(k): str(v) for k, v in (doc.get("namespaceAnnotations") or {}).items()
            },
            delete_namespace=bool(doc.get("deleteNamespace", False)),
        )


def json_list(items: list[Any]) -> str:
    """A list as the canonical JSON these options carry ("" for an empty one)."""
    return json.dumps(items, sort_keys=True, separators=(",", ":")) if items else ""


def _as_json(value: Any) -> str:
    if not value:
        return ""
    return value if isinstance(value, str) else json_list(list(value))


def _json_list(text: str) -> list[dict[str, Any]]:
    value = json.loads(text) if text else []
    return value if isinstance(value, list) else []
