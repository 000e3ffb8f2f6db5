"""What a cluster receives for one bundle: its resources plus apply options, content-addressed.

The revision covers both, so a change of options alone (say, correctDrift) also reaches spokes.
Rendered targets are stored by revision, so after a restart the hub can still diff against the
revision a spoke holds without rendering anything again.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from argosy.hashing import canonical_json, combine
from argosy.manifests import Manifest, ResourceSet
from argosy.options import ApplyOptions


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
            ApplyOptions.from_dict(opts),
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
