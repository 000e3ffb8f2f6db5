"""Serialised DeploymentUpsert messages, built once per distinct content and shared by every
session: a payload is serialised once per (bundle, base revision, target revision) and the same
bytes go to every spoke that needs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from argosy.api.v1 import resources_pb2, spoke_pb2
from argosy.convert import options_to_pb
from hub.delivery.diffing import diff_resource_sets
from hub.rendered import LruCache, Rendered


class Revisions(Protocol):
    """Where rendered revisions come from (the fleet: memory, else the store)."""

    async def rendered(self, revision: str) -> Rendered | None: ...


class RevisionMissing(Exception):
    """A deployment names a revision neither memory nor the store holds."""


@dataclass
class SendCounters:
    full: int = 0
    diff: int = 0
    deletes: int = 0
    retries: int = 0
    full_bytes: int = 0
    """Of upserts that send a whole revision (the spoke held nothing of the bundle)."""
    diff_bytes: int = 0
    """Of upserts that send only what changed since the revision the spoke holds."""
    control_bytes: int = 0
    """Of deletes and retries."""

    @property
    def bytes(self) -> int:
        """Every byte written to spokes."""
        return self.full_bytes + self.diff_bytes + self.control_bytes


# gRPC's customary message limit: larger upserts travel in chunks of at most this much.
CHUNK_BYTES = 4 * 1024 * 1024


class PayloadCache:
    """Serialised DeploymentUpsert messages, built once per distinct content."""

    def __init__(
        self, fleet: Revisions, *, capacity: int = 4096, chunk_bytes: int = CHUNK_BYTES
    ) -> None:
        self._fleet = fleet
        self._cache: LruCache[tuple[str, str, str], tuple[bytes, ...]] = LruCache(capacity)
        self._chunk_bytes = chunk_bytes
        self.counters = SendCounters()

    async def upsert(self, bundle: str, base: str, target: str) -> tuple[tuple[bytes, ...], bool]:
        """The messages that move a spoke from base to target, and whether they are a full send."""
        key = (bundle, base, target)
        hit = self._cache.get(key)
        if hit is not None:
            return hit, not base
        rendered = await self._fleet.rendered(target)
        if rendered is None:
            raise RevisionMissing(f"revision {target} of bundle {bundle} is not stored")
        base_rendered = await self._fleet.rendered(base) if base else None
        if base and base_rendered is None:
            # The spoke holds a revision this hub no longer has: send everything.
            return await self.upsert(bundle, "", target)
        data = encode_upsert(bundle, base_rendered, rendered, chunk_bytes=self._chunk_bytes)
        self._cache.put(key, data)
        return data, not base


def encode_upsert(
    bundle: str, base: Rendered | None, target: Rendered, *, chunk_bytes: int = CHUNK_BYTES
) -> tuple[bytes, ...]:
    """The upsert as serialised messages: one, or several chunks when it is large."""
    diff = diff_resource_sets(base.resources if base else None, target.resources)
    opts = target.options
    resources = [
        resources_pb2.Resource(key=m.key, hash=m.hash, manifest=m.manifest) for m in diff.upserts
    ]
    groups: list[list[resources_pb2.Resource]] = [[]]
    size = 0
    for r in resources:
        n = r.ByteSize()
        if groups[-1] and size + n > chunk_bytes:
            groups.append([])
            size = 0
        groups[-1].append(r)
        size += n
    out = []
    for i, group in enumerate(groups):
        last = i == len(groups) - 1
        msg = spoke_pb2.ConnectResponse(
            upsert=spoke_pb2.DeploymentUpsert(
                bundle=bundle,
                revision=target.revision,
                base_revision=base.revision if base else "",
                upserts=group,
                removed=list(diff.removed) if last else [],
                resource_count=len(target.resources),
                options=options_to_pb(opts),
                chunk_index=i,
                chunk_count=len(groups),
            )
        )
        out.append(msg.SerializeToString())
    return tuple(out)
