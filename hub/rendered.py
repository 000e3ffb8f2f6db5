"""What a cluster receives for one bundle: its resources plus apply options, content-addressed.

The revision covers both, so a change of options alone (say, correctDrift) also reaches spokes.
Rendered targets are stored by revision, so after a restart the hub can still diff against the
revision a spoke holds without rendering anything again.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from argosy.hashing import canonical_json, combine
from argosy.manifests import Manifest, ResourceSet


@dataclass(frozen=True)
class ApplyOptions:
    default_namespace: str = ""
    keep_resources: bool = False
    force: bool = False
    correct_drift: bool = False
    compare_patches_json: str = ""
    ignore_conditions_json: str = ""
    force_sync_generation: int = 0
    take_ownership: bool = False
    service_account: str = ""
    namespace_labels: Mapping[str, str] = field(default_factory=dict)
    namespace_annotations: Mapping[str, str] = field(default_factory=dict)
    delete_namespace: bool = False

    def as_dict(self) -> dict[str, object]:
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


@dataclass(frozen=True)
class Rendered:
    resources: ResourceSet = field(repr=False)
    options: ApplyOptions
    revision: str

    @classmethod
    def of(cls, resources: ResourceSet, options: ApplyOptions) -> Rendered:
        revision = combine([resources.revision, canonical_json(options.as_dict()).decode()])
        return cls(resources=resources, options=options, revision=revision)

    def encode(self) -> bytes:
        return canonical_json(
            {
                "options": self.options.as_dict(),
                "items": [
                    [m.key, m.hash, m.manifest.decode()] for m in self.resources.items.values()
                ],
            }
        )

    @classmethod
    def decode(cls, data: bytes) -> Rendered:
        doc = json.loads(data)
        opts = doc["options"]
        manifests = [
            Manifest(obj=json.loads(text), key=key, manifest=text.encode(), hash=digest)
            for key, digest, text in doc["items"]
        ]
        return cls.of(
            ResourceSet.of(manifests),
            ApplyOptions(
                default_namespace=opts["defaultNamespace"],
                keep_resources=opts["keepResources"],
                force=opts["force"],
                correct_drift=opts["correctDrift"],
                compare_patches_json=opts.get("comparePatches", ""),
                ignore_conditions_json=opts.get("ignoreConditions", ""),
                force_sync_generation=int(opts.get("forceSyncGeneration", 0)),
                take_ownership=bool(opts.get("takeOwnership", False)),
                service_account=str(opts.get("serviceAccount", "")),
                namespace_labels=dict(opts.get("namespaceLabels") or {}),
                namespace_annotations=dict(opts.get("namespaceAnnotations") or {}),
                delete_namespace=bool(opts.get("deleteNamespace", False)),
            ),
        )


K = TypeVar("K")
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """A small bounded mapping that forgets the least recently used entry."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._data: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self._capacity:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)
